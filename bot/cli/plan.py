"""`specship plan`: print the jobs the current event implies, as JSON and as a matrix output."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from bot import actions
from bot.cli.common import existing_dir, load_settings, read_trigger
from bot.speckit.layout import catalog
from bot.trigger.plan import plan, refine_push
from bot.trigger.types import FeatureDispatched, IssueLabeled


def main(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    if args.event_name:
        env["GITHUB_EVENT_NAME"] = args.event_name
    if args.event_path:
        env["GITHUB_EVENT_PATH"] = args.event_path
    repo = existing_dir(Path(args.repo))
    config = load_settings(repo, env)
    trigger = read_trigger(repo, config, env)
    result, _ = refine_push(repo, trigger, plan(trigger, config), describe=False)
    if isinstance(trigger, IssueLabeled | FeatureDispatched):
        # The one definition of a feature: an issue or a dispatch that names none of the features
        # is refused here, with the known ones, before a matrix starts a job for it. (A push's
        # features come from the tree itself.)
        known = catalog(repo, None, config.specs_dir)
        for job in result.jobs:
            if job.feature is not None:
                known.locate(job.feature, config.branch_prefix)
    rt = actions.runtime()
    print(json.dumps(result.to_json(), indent=2))
    rt.output("jobs", json.dumps({"include": [job.to_json() for job in result.jobs]}))
    rt.output("job-count", str(len(result.jobs)))
    if result.ignored:
        rt.info(f"ignored: {result.ignored}")
    if result.refused:
        rt.info(f"refused: {result.refused}")
    return 0
