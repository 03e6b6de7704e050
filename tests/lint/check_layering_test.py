#!/usr/bin/env python3
"""Self-check of check_layering.py on its fixture trees.

The event-names fixture must yield exactly the two code uses in src/supervisor/supervisor.cc; its comments,
string, raw-string and char literals, and everything in src/event/, must not be reported. The wiring fixture
must yield exactly watchctl's sd-event include (sd-bus is allowed in tools/) and the supervisor's include of api/
(only the daemon may include it).
Exit 0 when all checks hold; otherwise an AssertionError says which one failed.
"""
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from check_layering import check, strip_comments_and_literals  # noqa: E402

SUFFIX = "(sd-event and epoll names belong in src/event/)"


def test_event_names_fixture() -> None:
    got = check(HERE / "fixtures" / "event-names")
    want = [
        f"src/supervisor/supervisor.cc:8: supervisor/ uses sd_event_run {SUFFIX}",
        f"src/supervisor/supervisor.cc:9: supervisor/ uses EPOLLIN {SUFFIX}",
    ]
    assert got == want, "event-names fixture:\n  got:  " + "\n        ".join(got) + "\n  want: " + "\n        ".join(want)


def test_upward_fixture_still_caught() -> None:
    got = check(HERE / "fixtures" / "upward")
    assert any("model/ may not include supervisor/supervisor.h" in p for p in got), got
    assert any("may not use <systemd/sd-bus.h>" in p for p in got), got


def test_wiring_fixture() -> None:
    # watchctl talks D-Bus: <systemd/sd-bus.h> is allowed in tools/, sd-event still is not; the daemon constructs
    # the API services, so it may include api/, and nothing else may.
    got = check(HERE / "fixtures" / "wiring")
    want = [
        "src/supervisor/engine.cc:2: includes api/dbus/bus_service.h: nothing but daemon/ may include api/",
        "src/tools/watchctl.cc:4: tools/ may not use <systemd/sd-event.h> (allowed in: event)",
    ]
    assert got == want, "wiring fixture:\n  got:  " + "\n        ".join(got) + "\n  want: " + "\n        ".join(want)


def test_stripping_keeps_lines_and_code() -> None:
    cases = {
        # input -> what must remain (comments gone, literals emptied, newlines kept)
        "a // sd_event\nb": "a  \nb",
        "a /* x\ny\nz */ b": "a  \n\n b",
        'f("SD_EVENT_OFF", \'x\')': "f(\"\", '')",
        'g("a\\"b EPOLLIN")': 'g("")',
        "c = '\"'; EPOLLIN": "c = ''; EPOLLIN",
        "n = 1'000; EPOLLIN": "n = 1'000; EPOLLIN",
        'r = R"d(sd_event ")" )d"; x': 'r = R""; x',
        'w = LR"(EPOLLIN\n)" + u8"SD_EVENT_ON" + L\'E\'': 'w = LR""\n + u8"" + L\'\'',
        "// line \\\ncontinued EPOLLIN\nnext": " \n\nnext",
        '"unterminated EPOLLIN\nEPOLLOUT': '""\nEPOLLOUT',
    }
    for text, want in cases.items():
        got = strip_comments_and_literals(text)
        assert got == want, f"strip({text!r}) = {got!r}, want {want!r}"
        assert got.count("\n") == text.count("\n"), f"strip({text!r}) changed the line count"


def main() -> int:
    tests = [v for k, v in sorted(globals().items()) if k.startswith("test_") and callable(v)]
    for t in tests:
        t()
        print(f"ok {t.__name__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
