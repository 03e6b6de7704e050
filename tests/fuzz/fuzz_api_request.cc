// libFuzzer target: patrol's API_Request JSON parser (POST /api/ bodies, UDP datagrams) on arbitrary bytes. Besides
// crashes, sanitizer reports, leaks and slow inputs, it checks what every accepted request must satisfy: key/value
// values already in Go's form (normalizing them again changes nothing) and valid JSON, the command it translates
// to, and responses rendered from it that are valid JSON, compact and indented.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/patrol/go_json.h"
#include "api/patrol/json_doc.h"
#include "api/patrol/protocol.h"
#include "api/patrol/request.h"

namespace {

using namespace watchd::api::patrol;

[[noreturn]] void fail(const char *what, std::string_view detail = "") {
    std::fprintf(stderr, "fuzz-api-request: %s %.*s\n", what, static_cast<int>(detail.size()), detail.data());
    std::abort();
}

void check_json(std::string_view text, const char *what) {
    if (!parse_json(text)) fail(what, text.substr(0, 300));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char *>(data), size);

    // The generic document parser and Go's re-encoding: whatever it accepts re-encodes to valid, stable JSON.
    if (const auto doc = parse_json(body)) {
        std::string once;
        if (marshal_interface(*doc, once)) {
            check_json(once, "marshal_interface wrote invalid JSON:");
            if (normalize_value(once) != once) fail("normalizing twice changed the text:", once.substr(0, 300));
            check_json(indent_go(once), "indent_go broke the JSON:");
        }
    }

    const auto r = parse_request_json(body);
    if (!r) return 0;
    if (r->keyvalue)
        for (const auto &[key, value] : *r->keyvalue) {
            check_json(value, "a keyvalue value is not JSON:");
            if (normalize_value(value) != value) fail("a keyvalue value is not in Go's form:", value.substr(0, 300));
        }
    // The same request parsed again: the same result (no hidden state).
    if (parse_request_json(body) != r) fail("parsing is not deterministic");

    for (const Endpoint ep : {Endpoint::Http, Endpoint::Udp}) {
        const auto t = translate(*r, ep);
        if (const auto *target = std::get_if<Target>(&t)) {
            if (target->ref.id != go_lower(r->id)) fail("the unit id is not the lower-cased id");
            if (target->cmd.toggle && (r->toggle < 1 || r->toggle > 7)) fail("a toggle outside 1..7 was kept");
            if (target->cmd.pid < 0) fail("a negative PID");
            if (target->cmd.keyvalue_replace && !target->cmd.keyvalue) fail("a replace without a map");
        }
    }

    // A unit made of what the client sent, rendered as patrol would: valid JSON in every shape.
    watchd::supervisor::UnitView v;
    v.ref.id = r->id;
    v.name = r->secret;
    v.instance_id = r->group;
    v.pid = static_cast<pid_t>(r->pid & 0x7fffffff);
    v.cas = r->cas;
    if (r->keyvalue) v.keyvalue = *r->keyvalue;
    v.history.resize(r->toggle % 3);
    for (auto &h : v.history) h.keyvalue = v.keyvalue;
    const RenderContext ctx{r->group, 1700000000000000};
    for (const Shape shape : {Shape::Http, Shape::Udp, Shape::Status}) {
        const std::string compact = render_unit(v, shape, ctx, r->ping);
        check_json(compact, "render_unit wrote invalid JSON:");
        const std::string body_out = http_body(compact);
        check_json(body_out, "http_body wrote invalid JSON:");
        if (body_out.back() != '\n') fail("an HTTP body without its newline");
    }
    check_json(render_errors({r->id, r->secret}), "render_errors wrote invalid JSON:");
    return 0;
}
