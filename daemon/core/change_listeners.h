// The callbacks a storage calls whenever its snapshot is replaced: the watch hub (to push the
// change to watchers) and the background refresher (to renew a token another tool wrote close to
// expiry at once, not at its next look). Not thread-safe by itself: the storage keeps it under
// the lock it calls the listeners with, so removing one waits for a call in progress and the
// removed listener is never called afterwards.
#pragma once

#include <cstdint>
#include <functional>
#include <map>

namespace operator_auth {

class ChangeListeners {
 public:
  // Returns the id Remove() takes; never 0.
  uint64_t Add(std::function<void()> listener) {
    listeners_.emplace(++last_id_, std::move(listener));
    return last_id_;
  }
  void Remove(uint64_t id) { listeners_.erase(id); }
  void NotifyAll() const {
    for (const auto& [id, listener] : listeners_) listener();
  }

 private:
  uint64_t last_id_ = 0;
  std::map<uint64_t, std::function<void()>> listeners_;
};

}  // namespace operator_auth
