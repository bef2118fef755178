#include "runtime/stream.h"

#include "runtime/backend.h"

namespace cs {

Stream::Stream(Device device)
    : device_(device), handle_(backend(device.type).stream_create(device.index)) {}

Stream::~Stream() { backend(device_.type).stream_destroy(handle_); }

void Stream::synchronize() const {
  backend(device_.type).stream_synchronize(handle_, device_.index);
}

StreamGuard::StreamGuard(const Stream& stream)
    : device_(stream.device()),
      previous_(backend(device_.type).current_stream(device_.index)) {
  backend(device_.type).set_current_stream(device_.index, stream.handle());
}

StreamGuard::~StreamGuard() {
  backend(device_.type).set_current_stream(device_.index, previous_);
}

Event::Event(Device device)
    : device_(device), handle_(backend(device.type).event_create(device.index)) {}

Event::~Event() { backend(device_.type).event_destroy(handle_); }

void Event::record() { backend(device_.type).event_record(handle_, device_.index); }

void Event::synchronize() { backend(device_.type).event_synchronize(handle_); }

float Event::elapsed_ms_since(const Event& start) const {
  return backend(device_.type).event_elapsed_ms(start.handle_, handle_);
}

}  // namespace cs
