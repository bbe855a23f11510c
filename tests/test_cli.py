"""The command-line contract: JSON schema 1, human tables, exit statuses, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.ipcfactory import IpcFactory

BASE_KEYS = {
    "kind",
    "ref",
    "id",
    "name",
    "name_hex",
    "key",
    "uid",
    "owner",
    "gid",
    "mode",
    "size",
    "attachers",
    "attachers_unknown",
    "cpid_alive",
    "lpid_alive",
    "identity",
    "stale",
    "verdict",
    "stale_reasons",
    "namespace",
}
KIND_KEYS = {
    "sysv-shm": {
        "dest",
        "locked",
        "nattch",
        "cpid",
        "lpid",
        "cuid",
        "cgid",
        "atime",
        "dtime",
        "ctime",
        "rss",
        "swap",
        "cpid_state",
        "lpid_state",
    },
    "sysv-msg": {
        "cbytes",
        "qnum",
        "qbytes",
        "lspid",
        "lrpid",
        "cuid",
        "cgid",
        "stime",
        "rtime",
        "ctime",
        "lspid_alive",
        "lrpid_alive",
        "lspid_state",
        "lrpid_state",
    },
    "sysv-sem": {"nsems", "cuid", "cgid", "otime", "ctime"},
    "posix-shm": {"type", "allocated", "mtime", "ctime", "dev", "inode", "nlink", "deleted"},
    "posix-sem": {
        "type",
        "allocated",
        "mtime",
        "ctime",
        "dev",
        "inode",
        "nlink",
        "value",
        "waiters",
    },
    "posix-mq": {
        "type",
        "allocated",
        "mtime",
        "ctime",
        "dev",
        "inode",
        "nlink",
        "qsize",
        "curmsgs",
        "maxmsg",
        "msgsize",
        "notify",
        "signo",
        "notify_pid",
        "notify_pid_alive",
        "notify_pid_state",
    },
}


def run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


@pytest.fixture
def one_of_each(ipc: IpcFactory, mqueue_mounted: str) -> dict[str, object]:
    shm = ipc.sysv_shm(size=5000)
    queue = ipc.sysv_msg()
    queue.send(b"abc")
    semid = ipc.sysv_sem(nsems=2)
    pshm = ipc.posix_shm(size=100)
    psem = ipc.posix_sem(value=2)
    pmq = ipc.posix_mq()
    pmq.send(b"zz")
    return {
        "sysv-shm": f"sysv-shm:{shm.id}",
        "sysv-msg": f"sysv-msg:{queue.id}",
        "sysv-sem": f"sysv-sem:{semid}",
        "posix-shm": f"posix-shm:{pshm}",
        "posix-sem": f"posix-sem:{psem}",
        "posix-mq": f"posix-mq:{pmq.name}",
    }


def test_list_json_follows_schema_1_for_every_kind(
    one_of_each: dict[str, str], shmtop_cmd: list[str]
) -> None:
    document = json.loads(run([*shmtop_cmd, "list", "--json"]).stdout)
    assert {"schema", "host", "time", "objects", "limits", "usage", "kinds", "unavailable"} <= set(
        document
    )
    assert document["schema"] == 1
    assert isinstance(document["time"], float)
    assert document["unavailable"] == {}
    by_ref = {obj["ref"]: obj for obj in document["objects"]}
    for kind, ref in one_of_each.items():
        obj = by_ref[ref]
        assert set(obj) == BASE_KEYS | KIND_KEYS[kind], kind
        assert obj["kind"] == kind
        assert len(obj["mode"]) == 4 and int(obj["mode"], 8) >= 0
        assert obj["owner"] == "root"
        for key, value in obj.items():
            assert not isinstance(value, str) or key in {
                "kind",
                "ref",
                "name",
                "name_hex",
                "owner",
                "mode",
                "type",
                "cpid_state",
                "lpid_state",
                "lspid_state",
                "lrpid_state",
                "notify_pid_state",
                "identity",
                "verdict",
            }, f"{kind}.{key} is a string: numbers must be numbers"
    assert by_ref[one_of_each["sysv-shm"]]["size"] == 5000
    assert by_ref[one_of_each["sysv-msg"]]["qnum"] == 1
    assert by_ref[one_of_each["sysv-sem"]]["nsems"] == 2
    assert by_ref[one_of_each["posix-shm"]]["size"] == 100
    assert by_ref[one_of_each["posix-sem"]]["value"] == 2
    assert by_ref[one_of_each["posix-mq"]]["curmsgs"] == 1
    assert by_ref[one_of_each["sysv-shm"]]["name"] is None
    assert isinstance(by_ref[one_of_each["sysv-shm"]]["key"], int)


def test_list_json_limits_and_usage_are_typed(shmtop_cmd: list[str]) -> None:
    document = json.loads(run([*shmtop_cmd, "list", "--json"]).stdout)
    for name, limit in document["limits"].items():
        assert set(limit) == {"value", "unlimited", "unit"}, name
        assert limit["value"] is None or isinstance(limit["value"], int)
    for name, item in document["usage"].items():
        assert set(item) == {"used", "limit", "unlimited", "percent", "unit", "description"}
        assert isinstance(item["used"], int), name


def test_kind_filter_accepts_commas_and_repeats(
    one_of_each: dict[str, str], shmtop_cmd: list[str]
) -> None:
    out = run(
        [*shmtop_cmd, "list", "--json", "--kind", "sysv-shm,posix-sem", "--kind", "posix-mq"]
    ).stdout
    kinds = {obj["kind"] for obj in json.loads(out)["objects"]}
    assert kinds == {"sysv-shm", "posix-sem", "posix-mq"}


def test_human_list_shows_each_object_once_with_its_ref(
    one_of_each: dict[str, str], shmtop_cmd: list[str]
) -> None:
    result = run([*shmtop_cmd, "list"])
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "REF",
        "KEY",
        "OWNER",
        "MODE",
        "SIZE",
        "USE",
        "PROCS",
        "CPID",
        "LPID",
        "CHANGED",
    ]
    for ref in one_of_each.values():
        assert sum(line.startswith(ref + " ") for line in lines) == 1
    assert result.stderr == ""


def test_unknown_kind_is_a_usage_error_on_one_line(shmtop_cmd: list[str]) -> None:
    result = run([*shmtop_cmd, "list", "--kind", "shm"], check=False)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "unknown kind 'shm'" in result.stderr
    assert "Traceback" not in result.stderr


def test_unmounted_mqueue_is_a_note_for_list_and_an_error_when_asked_for(
    shmtop_cmd: list[str], tmp_path
) -> None:
    elsewhere = ["--dev-mqueue", str(tmp_path)]
    listed = run([*shmtop_cmd, "list", *elsewhere])
    assert listed.returncode == 0
    assert listed.stderr.strip().endswith("(mount -t mqueue none /dev/mqueue)")
    asked = run([*shmtop_cmd, "list", "--kind", "posix-mq", *elsewhere], check=False)
    assert asked.returncode == 1
    assert asked.stderr.count("\n") == 1
    assert "mount -t mqueue none /dev/mqueue" in asked.stderr


def test_unreadable_procfs_fails_cleanly(shmtop_cmd: list[str], tmp_path) -> None:
    result = run(
        [*shmtop_cmd, "list", "--kind", "sysv-shm", "--procfs", str(tmp_path)], check=False
    )
    assert result.returncode == 1
    assert result.stderr.startswith("shmtop: cannot read ")
    assert "Traceback" not in result.stderr


def test_limits_table_and_json_cover_every_kind(shmtop_cmd: list[str]) -> None:
    table = run([*shmtop_cmd, "limits"]).stdout
    for resource in (
        "SHMMNI",
        "SHMALL",
        "MSGMNI",
        "SEMMNS",
        "POSIX_SHM",
        "POSIX_SEM",
        "MQ_QUEUES",
        "DEV_SHM",
    ):
        assert any(line.startswith(resource + " ") for line in table.splitlines()), resource
    document = json.loads(run([*shmtop_cmd, "limits", "--json"]).stdout)
    assert document["schema"] == 1
    assert document["limits"]["semvmx"]["value"] == 32767
    assert "objects" not in document


def test_output_into_a_closed_pipe_ends_quietly(ipc: IpcFactory, shmtop_cmd: list[str]) -> None:
    for _ in range(200):
        ipc.posix_shm()
    pipeline = subprocess.run(
        " ".join(shmtop_cmd) + " list | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        check=True,
    )
    assert pipeline.stdout.startswith("REF")
    assert pipeline.stderr == ""


def test_version_and_module_entry_point(shmtop_cmd: list[str]) -> None:
    assert run([*shmtop_cmd, "--version"]).stdout.startswith("shmtop ")


CHECK_IMPORTS = """
import sys
from shmtop.cli import main
status = main(sys.argv[1:])
heavy = sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich', 'psutil'})
print(status, heavy, file=sys.stderr)
"""


@pytest.mark.parametrize("command", [["list", "--json"], ["list"], ["limits"]])
def test_commands_other_than_the_dashboard_do_not_import_ui_libraries(
    command: list[str],
) -> None:
    """No Textual or Rich outside the dashboard; psutil (40 ms) only where pids are judged."""
    result = run([sys.executable, "-c", CHECK_IMPORTS, *command])
    status, _, imported = result.stderr.strip().partition(" ")
    assert status == "0"
    assert "textual" not in imported and "rich" not in imported
    if command == ["limits"]:
        assert imported == "[]"


def test_the_collector_imports_no_ui_library() -> None:
    code = (
        "import sys, shmtop.collect, shmtop.model, shmtop.export, shmtop.columns;"
        "shmtop.collect.collect_snapshot();"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    )
    assert run([sys.executable, "-c", code]).stdout.strip() == "[]"


def test_top_level_help_says_how_to_find_the_dashboards_keys() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "shmtop", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "? (or F1) lists every key" in " ".join(shown.split())
    assert "Ctrl+P finds every action by name" in " ".join(shown.split())


def test_an_unknown_theme_is_a_usage_error_naming_the_themes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shmtop", "--theme", "nope"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("shmtop: no theme 'nope'; the themes are: ")
    assert "textual-light" in done.stderr


COMMAND_LINES = [
    ["list"],
    ["list", "--json", "--kind", "sysv-shm,posix-mq", "--kind", "pipe", "--pid", "1", "-A"],
    ["list", "--ns", "host", "--procfs", "/proc", "--dev-shm", "/dev/shm"],
    ["list", "--js"],  # an abbreviated option
    ["show", "sysv-shm:0", "--json", "--ns", "1"],
    ["dump", "posix-shm:/x", "--offset", "0x10", "--length", "4"],
    ["rm", "sysv-shm:1", "posix-shm:/a", "--identity", "i", "--yes", "--backup", "/tmp"],
    ["clean", "--min-age", "90s", "--user", "root", "--ignore-unreadable", "1", "--json", "-A"],
    ["limits", "--json", "-A"],
    ["metrics", "-A", "--min-age", "2h"],
    ["exporter", "--listen", "127.0.0.1:10143"],
    ["demo", "--dashboard", "--interval", "1"],
]
BAD_COMMAND_LINES = [
    ["list", "--bogus"],
    ["list", "--kind", "nope"],
    ["list", "extra"],
    ["dump", "posix-shm:/x", "--offset", "-1"],
    ["show"],
    ["clean", "--min-age", "soon"],
    ["demo", "--interval", "0"],
]


@pytest.mark.parametrize("argv", COMMAND_LINES, ids=" ".join)
def test_the_one_command_parser_parses_as_the_whole_parser_does(argv: list[str]) -> None:
    """`shmtop COMMAND ...` builds only that command's parser (start-up): same arguments."""
    from shmtop.cli.parser import build_parser, command_named_first

    assert command_named_first(argv) == argv[0]
    whole = build_parser().parse_args(argv)
    assert vars(build_parser(argv[0]).parse_args(argv)) == vars(whole)


@pytest.mark.parametrize("argv", BAD_COMMAND_LINES, ids=" ".join)
def test_the_one_command_parser_refuses_as_the_whole_parser_does(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from shmtop.cli.parser import build_parser

    refusals = []
    for only in (None, argv[0]):
        with pytest.raises(SystemExit) as exited:
            build_parser(only).parse_args(argv)
        refusals.append((exited.value.code, capsys.readouterr()))
    assert refusals[0] == refusals[1]
    assert refusals[0][0] == 2


@pytest.mark.parametrize("argv", [[], ["--interval", "1", "list"], ["--ns", "list", "show"]])
def test_a_command_line_not_starting_with_a_command_gets_the_whole_parser(
    argv: list[str],
) -> None:
    from shmtop.cli.parser import command_named_first

    assert command_named_first(argv) is None


def test_list_json_imports_only_what_listing_needs() -> None:
    """Start-up: `list --json` leaves out the other commands' code, the inspectors, the
    namespace discovery and the fleet commands (whatever objects the host holds)."""
    code = (
        "import sys, io; from shmtop.cli import main;"
        "sys.stdout = io.TextIOWrapper(io.BytesIO());"
        "main(['list', '--json']);"
        "print(sorted(m for m in sys.modules if m.startswith(('shmtop.inspect', "
        "'shmtop.metrics', 'shmtop.collect.everywhere', 'shmtop.namespaces.containers', "
        "'shmtop.namespaces.mqueue_view', 'shmtop.cli.fleet', 'shmtop.clean.remove', "
        "'shmtop.demo', 'shmtop.columns', 'concurrent.futures'))), file=sys.stderr)"
    )
    assert run([sys.executable, "-c", code]).stderr.strip().splitlines()[-1] == "[]"
