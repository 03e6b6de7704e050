// Names of announcements: the journal's WATCHD_EVENT values.
#include "model/action.h"

namespace watchd::model {

std::string_view to_string(Announcement a) {
    switch (a) {
    case Announcement::Started: return "started";
    case Announcement::Exited: return "exited";
    case Announcement::Restarting: return "restarting";
    case Announcement::Failed: return "failed";
    case Announcement::Stopping: return "stopping";
    case Announcement::Stopped: return "stopped";
    case Announcement::Timeout: return "timeout";
    case Announcement::Error: return "error";
    }
    return "unknown";
}

} // namespace watchd::model
