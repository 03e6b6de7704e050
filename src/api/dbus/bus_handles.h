// The sd-bus handles of event/bus_handles.h under this layer's names.
#pragma once

#include "event/bus_handles.h"

namespace watchd::api::dbus {
using event::BusCredsPtr;
using event::BusError;
using event::BusMessagePtr;
using event::BusPtr;
using event::BusSlotPtr;
} // namespace watchd::api::dbus
