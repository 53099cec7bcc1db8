// CoreGate: trainers and latency measurements share the cores of one evaluator. Torch-free;
// internal to evaluator/.
#pragma once

#include <condition_variable>
#include <mutex>

namespace paretonas::evaluator {

/// Trainers hold the gate shared for one step; a latency measurement holds it exclusively, so
/// it runs with no training on the cores. Writers are preferred: a waiting measurement stops
/// new steps from starting.
class CoreGate {
 public:
  void EnterShared() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return writers_waiting_ == 0 && !writer_active_; });
    ++readers_;
  }
  void LeaveShared() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--readers_ == 0) cv_.notify_all();
  }
  void EnterExclusive() {
    std::unique_lock<std::mutex> lock(mu_);
    ++writers_waiting_;
    cv_.wait(lock, [&] { return readers_ == 0 && !writer_active_; });
    --writers_waiting_;
    writer_active_ = true;
  }
  void LeaveExclusive() {
    std::lock_guard<std::mutex> lock(mu_);
    writer_active_ = false;
    cv_.notify_all();
  }

  /// Holds `gate` shared (or exclusively) while alive, also when what it guards throws;
  /// nothing for a null gate.
  class Hold {
   public:
    explicit Hold(CoreGate* gate, bool exclusive = false) : gate_(gate), exclusive_(exclusive) {
      if (gate_) exclusive_ ? gate_->EnterExclusive() : gate_->EnterShared();
    }
    ~Hold() {
      if (gate_) exclusive_ ? gate_->LeaveExclusive() : gate_->LeaveShared();
    }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    CoreGate* gate_;
    bool exclusive_;
  };

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int readers_ = 0;
  int writers_waiting_ = 0;
  bool writer_active_ = false;
};

}  // namespace paretonas::evaluator
