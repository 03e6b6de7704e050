// The announcement table: journal names and MESSAGE_IDs (random UUIDs, never to be changed once released).
#include "model/announcement.h"

#include "base/enum_table.h"

namespace watchd::model {

namespace {
struct Row {
    Announcement value;
    std::string_view name;
    std::string_view message_id;
};
constexpr std::array<Row, kAnnouncementCount> kTable{{
    {Announcement::Started, "started", "7601f39395ed4709add806a09e474885"},
    {Announcement::Exited, "exited", "250926d2d1af4ba0a8570e088f06a9a3"},
    {Announcement::Restarting, "restarting", "83bba628154b487daf38be5f856b6b7d"},
    {Announcement::Failed, "failed", "aec0d3bc5cef44fcbb1a7ee3da86df9f"},
    {Announcement::Stopping, "stopping", "c95fadaaf56b4f939397c8f5c04b3aba"},
    {Announcement::Stopped, "stopped", "8a1c4e73b9084c76b3bb914d8c4ea814"},
    {Announcement::Timeout, "timeout", "687558243bda4f88aa420737dff2d97f"},
    {Announcement::Error, "error", "50706b90488b4694854ea2863cb44bc4"},
    {Announcement::Removed, "removed", "e0b2bedc3f694a3d878d705e890d85b4"},
    {Announcement::Reconfigured, "reconfigured", "eb3e7c2dcaca4f649d903eebccd330e0"},
    {Announcement::NotRun, "not-run", "682d215220d141c38f9286d8f9a91678"},
    {Announcement::Down, "down", "199174a938ea435b9ab591ca176dddbb"},
    {Announcement::Up, "up", "64d874f232dd4e46ab069f2b08eff4b0"},
}};
static_assert(base::in_enum_order(kTable), "rows must follow the enum order");
// Names and MESSAGE_IDs are unique, and every MESSAGE_ID is 32 long (hex digits: see the unit tests).
static_assert([] {
    for (std::size_t i = 0; i < kTable.size(); ++i) {
        if (kTable[i].message_id.size() != 32) return false;
        for (std::size_t j = 0; j < i; ++j)
            if (kTable[j].message_id == kTable[i].message_id || kTable[j].name == kTable[i].name) return false;
    }
    return true;
}());
} // namespace

std::string_view to_string(Announcement a) { return base::row_of(kTable, a).name; }
std::string_view message_id(Announcement a) { return base::row_of(kTable, a).message_id; }

} // namespace watchd::model
