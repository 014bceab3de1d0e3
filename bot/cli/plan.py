"""`specship plan`: print the jobs the current event implies, as JSON and as a matrix output."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from bot import actions
from bot.cli.common import load_settings, read_trigger
from bot.trigger.plan import plan, refine_push


def main(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    if args.event_name:
        env["GITHUB_EVENT_NAME"] = args.event_name
    if args.event_path:
        env["GITHUB_EVENT_PATH"] = args.event_path
    repo = Path(args.repo).resolve()
    config = load_settings(repo, env)
    trigger = read_trigger(repo, config, env)
    result, _ = refine_push(repo, trigger, plan(trigger, config), describe=False)
    rt = actions.runtime()
    print(json.dumps(result.to_json(), indent=2))
    rt.output("jobs", json.dumps({"include": [job.to_json() for job in result.jobs]}))
    rt.output("job-count", str(len(result.jobs)))
    if result.ignored:
        rt.info(f"ignored: {result.ignored}")
    if result.refused:
        rt.info(f"refused: {result.refused}")
    return 0
