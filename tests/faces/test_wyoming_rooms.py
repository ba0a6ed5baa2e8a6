"""`assistant stats` names the room (session) each turn came from."""
from __future__ import annotations

import json

from click.testing import CliRunner

from assistant.cli import main


def test_stats_lists_turns_per_room(tmp_path):
    history = tmp_path / "history.jsonl"
    lines = [{"turn": 1, "result": "done", "timings": {"eos_to_first_audio": 0.8}},
             {"turn": 2, "session": "Kitchen", "result": "done", "timings": {"eos_to_first_audio": 1.2}},
             {"turn": 3, "session": "Kitchen", "result": "ignored", "timings": {}}]
    history.write_text("".join(json.dumps(r) + "\n" for r in lines))
    result = CliRunner().invoke(main, ["stats", "--history", str(history)])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines() if line.startswith(("Kitchen", "local"))}
    assert rows["Kitchen"][1] == "2" and rows["Kitchen"][2] == "1200ms"
    assert rows["local"][1] == "1" and rows["local"][2] == "800ms"
