// Streams, events and a timer that work the same on every device.
//
// On CUDA, ops run on the thread's current stream (a non-blocking stream per
// device by default); events are CUDA events on that stream. On the CPU,
// streams are no-ops and events read the steady clock.
#pragma once

#include "runtime/device.h"

namespace cs {

// An owned stream. Make it current for this thread with StreamGuard.
class Stream {
 public:
  explicit Stream(Device device);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  void synchronize() const;
  Device device() const { return device_; }
  void* handle() const { return handle_; }

 private:
  Device device_;
  void* handle_ = nullptr;
};

// Makes `stream` the current stream of its device for this thread, restoring
// the previous one when it goes out of scope.
class StreamGuard {
 public:
  explicit StreamGuard(const Stream& stream);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  Device device_;
  void* previous_;
};

// A point in a device's stream of work.
class Event {
 public:
  explicit Event(Device device);
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void record();       // on the current stream
  void synchronize();  // wait until the work before record() is done
  // Milliseconds between `start` and this event (both recorded, this one done).
  float elapsed_ms_since(const Event& start) const;

 private:
  Device device_;
  void* handle_ = nullptr;
};

// Measures device time: CUDA events on a GPU, the steady clock on the CPU.
//   Timer t(device); t.start(); ...work...; double ms = t.stop_ms();
class Timer {
 public:
  explicit Timer(Device device) : start_(device), stop_(device) {}
  void start() { start_.record(); }
  // Records the stop, waits for the device, returns elapsed milliseconds.
  double stop_ms() {
    stop_.record();
    stop_.synchronize();
    return stop_.elapsed_ms_since(start_);
  }

 private:
  Event start_, stop_;
};

}  // namespace cs
