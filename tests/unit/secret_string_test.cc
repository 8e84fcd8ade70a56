#include "daemon/core/secret_string.h"

#include <cstring>
#include <new>
#include <sstream>
#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace operator_auth {
namespace {

// Longer than any inline (SSO) buffer, so the value lives on the heap.
const std::string kLong(64, 'L');
// Short enough for the inline buffer.
const std::string kShort = "short-value";

bool AllZero(const char* bytes, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

bool Contains(const unsigned char* bytes, size_t n, const std::string& needle) {
  const std::string haystack(reinterpret_cast<const char*>(bytes), n);
  return haystack.find(needle) != std::string::npos;
}

TEST(SecretString, ClearWipesTheHeapBufferItKeeps) {
  SecretString s(kLong);
  const char* buffer = s.view().data();
  s.clear();
  EXPECT_TRUE(s.empty());
  // clear() keeps the allocation, so the old bytes are still ours to read.
  ASSERT_EQ(s.view().data(), buffer);
  EXPECT_TRUE(AllZero(buffer, kLong.size()));
}

TEST(SecretString, AssigningAShorterValueLeavesNoTailOfTheOldOne) {
  SecretString s(kLong);
  const char* buffer = s.view().data();
  s = SecretString("ab");
  EXPECT_EQ(s.view(), "ab");
  s = SecretString(kShort);
  ASSERT_EQ(s.view().data(), buffer);  // the old buffer was reused, not freed
  EXPECT_TRUE(AllZero(buffer + kShort.size(), kLong.size() - kShort.size()));

  const SecretString other("xy");
  s = other;  // copy assignment wipes first too
  ASSERT_EQ(s.view().data(), buffer);
  EXPECT_EQ(s.view(), "xy");
  EXPECT_TRUE(AllZero(buffer + 2, kLong.size() - 2));
}

TEST(SecretString, MoveLeavesTheSourceWipedAndEmpty) {
  SecretString short_source(kShort);
  const char* inline_buffer = short_source.view().data();
  SecretString moved(std::move(short_source));
  EXPECT_EQ(moved.view(), kShort);
  EXPECT_TRUE(short_source.empty());  // NOLINT(bugprone-use-after-move): the contract under test
  ASSERT_EQ(short_source.view().data(), inline_buffer);
  EXPECT_TRUE(AllZero(inline_buffer, kShort.size()));

  SecretString long_source(kLong);
  const char* heap_buffer = long_source.view().data();
  SecretString target("old");
  target = std::move(long_source);
  EXPECT_EQ(target.view(), kLong);
  EXPECT_EQ(target.view().data(), heap_buffer);  // moved, not copied
  EXPECT_TRUE(long_source.empty());              // NOLINT(bugprone-use-after-move)

  SecretString short_again(kShort);
  const char* again_buffer = short_again.view().data();
  target = std::move(short_again);
  EXPECT_EQ(target.view(), kShort);
  EXPECT_TRUE(AllZero(again_buffer, kShort.size()));
}

TEST(SecretString, TakingAStdStringWipesWhatTheMovedFromStringKeeps) {
  std::string plain = kShort;
  const char* inline_buffer = plain.data();
  SecretString s(std::move(plain));
  EXPECT_EQ(s.view(), kShort);
  ASSERT_EQ(plain.data(), inline_buffer);  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(AllZero(inline_buffer, kShort.size()));

  std::string long_plain = kLong;
  const char* heap_buffer = long_plain.data();
  SecretString taken(std::move(long_plain));
  EXPECT_EQ(taken.view().data(), heap_buffer);  // no copy left behind
}

TEST(SecretString, DestructorWipesTheInlineBuffer) {
  alignas(SecretString) unsigned char storage[sizeof(SecretString)];
  auto* s = new (storage) SecretString(kShort);
  ASSERT_TRUE(Contains(storage, sizeof(storage), kShort));
  s->~SecretString();
  EXPECT_FALSE(Contains(storage, sizeof(storage), kShort));
  EXPECT_FALSE(Contains(storage, sizeof(storage), kShort.substr(1)));
}

TEST(SecretString, CopiesAreIndependent) {
  SecretString original(kLong);
  SecretString copy = original;
  EXPECT_NE(copy.view().data(), original.view().data());
  original.clear();
  EXPECT_EQ(copy.view(), kLong);
  EXPECT_TRUE(original.empty());
}

TEST(SecretString, ComparesByValue) {
  EXPECT_EQ(SecretString("abc"), SecretString(std::string("abc")));
  EXPECT_NE(SecretString("abc"), SecretString("abd"));
  EXPECT_NE(SecretString("abc"), SecretString("abcd"));
  EXPECT_EQ(SecretString(), SecretString(""));
  EXPECT_TRUE(SecretString().empty());
  EXPECT_EQ(SecretString(kLong).size(), kLong.size());
  EXPECT_EQ(SecretString(kShort).str(), kShort);
}

TEST(SecretString, PrintsNoValue) {
  std::ostringstream out;
  out << SecretString(kShort);
  EXPECT_EQ(out.str(), "<secret>");
}

TEST(CleanseString, WipesTheWholeCapacityAndEmpties) {
  std::string text = kLong;
  text.resize(3);  // the bytes past size() still hold the old text
  const char* buffer = text.data();
  const size_t capacity = text.capacity();
  CleanseString(text);
  EXPECT_TRUE(text.empty());
  EXPECT_TRUE(AllZero(buffer, capacity));
}

}  // namespace
}  // namespace operator_auth
