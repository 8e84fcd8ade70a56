// A stand-in for libFuzzer's main, so that the normal (GCC) build runs every fuzz target briefly:
// it feeds LLVMFuzzerTestOneInput the empty input, every file of the given corpus directories
// (or files), then a fixed number of deterministic mutations of them. A broken invariant aborts,
// naming the input. The clang build (AUTHD_FUZZ) links libFuzzer's main instead.
//
//   <target>_fuzz [-runs=N] CORPUS_DIR|FILE...
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

constexpr uint64_t kDefaultMutations = 4000;
constexpr uint64_t kSeed = 0x5eed'a07d'f022'0001;
constexpr size_t kMaxMutantBytes = 64 * 1024;
constexpr int kMaxEditsPerMutant = 4;

// Bytes and tokens that change how the inputs parse: JSON structure, escapes, form encoding,
// UTF-8 edge cases and field names the codecs know.
constexpr absl::string_view kTokens[] = {
    // JSON structure, escapes and numbers
    "\"", "\\", "{", "}", "[", "]", ",", ":", "null", "true", "0", "-1", "1.5", "1e308", "1e309",
    "18446744073709551616", "\\u0000", "\\ud800",
    // form encoding, URLs and request lines
    "&", "=", "#", "?", "%", "%2", "%00", "+", " ", "\n", "\t",
    "code=", "state=", "error=", "error_description=", "state-Zx81_q", "/auth/callback", "GET ",
    "POST ", "http://", "https://",
    // UTF-8 edge cases: DEL, a C1 control, a truncated sequence, a surrogate, past U+10FFFF, BOM
    "\x7F", "\xC2\x85", "\xC3", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xEF\xBB\xBF",
    // field names the codecs know
    "\"type\"", "\"oauth\"", "\"api_key\"", "\"key\"", "\"access\"", "\"refresh\"", "\"expires\"",
    "\"account_id\"", "\"extra\"", "\"telegram\"", "\"slack\"", "\"bot_token\"", "\"app_token\"",
    "\"email\""};

// xorshift64*: deterministic across runs and platforms.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1DULL;
  }
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(Next() % n); }

 private:
  uint64_t state_;
};

std::string Mutate(const std::vector<std::string>& corpus, Random& random) {
  std::string s = corpus[random.Below(corpus.size())];
  const int edits = 1 + static_cast<int>(random.Below(kMaxEditsPerMutant));
  for (int e = 0; e < edits; ++e) {
    const size_t at = random.Below(s.size() + 1);
    switch (random.Below(8)) {
      case 0:  // flip a bit
        if (!s.empty()) s[at % s.size()] ^= static_cast<char>(1u << random.Below(8));
        break;
      case 1:  // overwrite a byte
        if (!s.empty()) s[at % s.size()] = static_cast<char>(random.Below(256));
        break;
      case 2:  // insert a byte
        s.insert(at, 1, static_cast<char>(random.Below(256)));
        break;
      case 3:  // erase a range
        s.erase(at, 1 + random.Below(16));
        break;
      case 4:  // truncate
        s.resize(at);
        break;
      case 5: {  // duplicate a range
        const size_t from = random.Below(s.size() + 1);
        s.insert(at, s.substr(from, 1 + random.Below(32)));
        break;
      }
      case 6:  // insert a token
        s.insert(at, std::string(kTokens[random.Below(std::size(kTokens))]));
        break;
      default: {  // splice in part of another corpus input
        const std::string& other = corpus[random.Below(corpus.size())];
        const size_t from = random.Below(other.size() + 1);
        s.insert(at, other.substr(from, random.Below(other.size() - from + 1)));
        break;
      }
    }
    if (s.size() > kMaxMutantBytes) s.resize(kMaxMutantBytes);
  }
  return s;
}

bool ReadFile(const std::filesystem::path& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

// Where a failing input is written, in the working directory, like libFuzzer's crash-<sha1>.
constexpr char kCrashFile[] = "replay-crash-input";

// The input being run, for the abort handler.
const uint8_t* g_running_data = nullptr;
size_t g_running_size = 0;

// On abort (a broken invariant, a failed assert): saves the input that caused it. Only
// async-signal-safe calls.
void SaveRunningInput(int signal_number) {
  const int fd = open(kCrashFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0) {
    size_t written = 0;
    while (written < g_running_size) {
      const ssize_t n = write(fd, g_running_data + written, g_running_size - written);
      if (n <= 0) break;
      written += static_cast<size_t>(n);
    }
    close(fd);
    constexpr char kNote[] = "replay: the failing input is in ./replay-crash-input\n";
    (void)!write(STDERR_FILENO, kNote, sizeof(kNote) - 1);
  }
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

void Run(const std::string& input) {
  // An exactly-sized heap copy, so that ASan builds catch a read past the end.
  std::vector<uint8_t> bytes(input.begin(), input.end());
  g_running_data = bytes.data();
  g_running_size = bytes.size();
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  g_running_data = nullptr;
  g_running_size = 0;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t mutations = kDefaultMutations;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "-runs=")) {
      if (!absl::SimpleAtoi(arg, &mutations)) {
        std::fprintf(stderr, "replay: bad -runs=%s\n", argv[i]);
        return 2;
      }
      continue;
    }
    std::error_code error;
    if (std::filesystem::is_directory(argv[i], error)) {
      for (const auto& entry : std::filesystem::directory_iterator(argv[i])) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
    } else {
      files.emplace_back(argv[i]);
    }
  }
  std::sort(files.begin(), files.end());  // directory order varies; replay order should not

  std::signal(SIGABRT, SaveRunningInput);
  std::vector<std::string> corpus = {std::string()};
  Run(corpus.front());
  for (const std::filesystem::path& path : files) {
    std::string input;
    if (!ReadFile(path, input)) {
      std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
      return 2;
    }
    std::fprintf(stderr, "replay: %s\n", path.c_str());
    Run(input);
    corpus.push_back(std::move(input));
  }
  if (files.empty()) {
    std::fprintf(stderr, "replay: no corpus files given\n");
    return 2;
  }

  Random random(kSeed);
  for (uint64_t i = 0; i < mutations; ++i) {
    Run(Mutate(corpus, random));
  }
  std::fprintf(stderr, "replay: %zu corpus files and %llu mutations passed\n", files.size(),
               static_cast<unsigned long long>(mutations));
  return 0;
}
