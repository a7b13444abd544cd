"""Fake ostris/ai-toolkit run.py for headshot's tests (Python 3 standard library only).

Behaves like the real run.py at commit 27a03a91 as described in ostris/ai-toolkit
(a copy of the relevant facts is in README.md next to this file): same CLI, config resolution,
${VAR} expansion, required keys, dataset scan, stdout milestones, tqdm progress on stderr with
'\\r', checkpoint/sample/final file names, pruning, auto-resume, exit codes (0 on Ctrl-C).
No model is loaded and no GPU is used; steps take FAKE_AITK_STEP_SECONDS (default 0.01).

Fault switches (environment):
  FAKE_AITK_OOM_ON_LOAD=1          torch OOM traceback while quantizing the transformer (exit 1)
  FAKE_AITK_OOM_AT_STEP=N          OOM in training step N, skipped 3 times, then aborts (exit 1)
  FAKE_AITK_CRASH_AT_STEP=N        a RuntimeError in step N (exit 1)
  FAKE_AITK_GATED=1                the model is gated: 401 GatedRepoError unless HF_TOKEN is set
  FAKE_AITK_EXIT0_WITHOUT_OUTPUT=1 exits 0 after training without writing the final LoRA
  FAKE_AITK_HANG_AT_STEP=N         sleeps (interruptible) at step N, for Ctrl-C tests
  FAKE_AITK_MINI_YAML=1            parse the config with the built-in YAML subset parser even if PyYAML exists
  FAKE_AITK_RECORD=<file>          append one JSON line per run: argv, cwd and selected environment
"""
import argparse
import json
import os
import re
import sys
import time
import traceback

REPO = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, REPO)
sys.dont_write_bytecode = True  # keep the test checkout free of __pycache__

from toolkit.mini_yaml import load_yaml  # noqa: E402
from toolkit.fake_trainer import FakeSDTrainer, print_acc  # noqa: E402
from toolkit import tee  # noqa: E402

os.environ.setdefault("HF_XET_HIGH_PERFORMANCE", "1")
os.environ.setdefault("HF_HUB_DISABLE_XET", "0")
os.environ["DISABLE_TELEMETRY"] = "YES"
os.environ["NO_ALBUMENTATIONS_UPDATE"] = "1"


def get_config_path(arg):
    # toolkit/config.py:get_config — <repo>/config/<arg>(+ext), then as given, then cwd-relative
    config_dir = os.path.join(REPO, "config")
    candidates = [os.path.join(config_dir, arg)]
    candidates += [os.path.join(config_dir, arg + ext) for ext in (".json", ".jsonc", ".yaml", ".yml")]
    candidates += [arg, os.path.join(os.getcwd(), arg)]
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
    raise ValueError(f"Could not find config file {arg}")


def expand_env(text):
    def repl(match):
        name = match.group(1)
        if name not in os.environ:
            raise ValueError(f"Environment variable {name} not set. Please set it in your .env file or environment")
        return os.environ[name]

    return re.sub(r"\$\{([^}]+)\}", repl, text)


def get_config(arg, name=None):
    path = get_config_path(arg)
    with open(path, "r", encoding="utf-8") as f:
        raw = expand_env(f.read())
    if path.endswith(".json") or path.endswith(".jsonc"):
        config = json.loads(raw)
    else:
        config = load_yaml(raw)
    if not isinstance(config, dict):
        raise ValueError(f"Invalid config file {path}")
    if name is not None:
        config = json.loads(json.dumps(config).replace("[name]", name))
        if "config" in config and isinstance(config["config"], dict) and "name" not in config["config"]:
            config["config"]["name"] = name
    return config


def get_job(arg, name=None):
    config = get_config(arg, name)
    if "job" not in config:
        raise ValueError("config file must have a job key")
    if "config" not in config:
        raise ValueError("config file must have a config section")
    if "name" not in config["config"]:
        raise ValueError("config file must have a config.name key")
    job = config["job"]
    if job != "extension":
        if job in ("extract", "train", "mod", "generate"):
            raise ValueError(f"Fake ai-toolkit only implements 'extension' jobs, got {job}")
        raise ValueError(f"Unknown job type {job}")
    return ExtensionJob(config)


class ExtensionJob:
    def __init__(self, config):
        self.raw_config = config
        self.config = config["config"]
        self.name = self.config["name"]
        self.meta = config.get("meta", {}) or {}
        if "process" not in self.config or not self.config["process"]:
            raise ValueError("config file must have a process section")
        self.process = []
        for p in self.config["process"]:
            if "type" not in p:
                raise ValueError("process must have a type")
            if p["type"] not in ("sd_trainer", "diffusion_trainer", "ui_trainer"):
                raise ValueError(f"Unknown process type: {p['type']}")
            if p["type"] == "ui_trainer" and not os.environ.get("AITK_JOB_ID"):
                raise ValueError("AITK_JOB_ID not set")
            self.process.append(FakeSDTrainer(self, p))

    def run(self):
        print_acc("")
        print_acc("#############################################")
        print_acc(f"# Running job: {self.name}")
        print_acc("#############################################")
        print_acc("")
        print_acc(f"Running  {len(self.process)} process{'' if len(self.process) == 1 else 'es'}")
        for process in self.process:
            process.run()

    def cleanup(self):
        pass


def print_end_message(jobs_completed, jobs_failed):
    failure_string = f"{jobs_failed} failure{'' if jobs_failed == 1 else 's'}" if jobs_failed > 0 else ""
    completed_string = f"{jobs_completed} completed job{'' if jobs_completed == 1 else 's'}"
    print_acc("")
    print_acc("========================================")
    print_acc("Result:")
    if len(completed_string) > 0:
        print_acc(f" - {completed_string}")
    if len(failure_string) > 0:
        print_acc(f" - {failure_string}")
    print_acc("========================================")


def record(args):
    target = os.environ.get("FAKE_AITK_RECORD")
    if not target:
        return
    keys = ("PYTHONUNBUFFERED", "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "HF_TOKEN", "REPLICATE_API_TOKEN")
    with open(target, "a", encoding="utf-8") as f:
        f.write(json.dumps({"argv": sys.argv, "cwd": os.getcwd(), "env": {k: os.environ.get(k) for k in keys}}) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("config_file_list", nargs="+", type=str, help="Name of config file (eg: person_v1 for config/person_v1.json/yaml), or full path if it is not in config folder, you can pass multiple config files and run them all sequentially")
    parser.add_argument("-r", "--recover", action="store_true", help="Continue running additional jobs even if a job fails")
    parser.add_argument("-n", "--name", type=str, default=None, help="Name to replace [name] tag in config file, useful for shared config file")
    parser.add_argument("-l", "--log", type=str, default=None, help="Log file to write output to")
    args = parser.parse_args()
    record(args)
    if args.log is not None:
        tee.setup_log_to_file(args.log)

    config_file_list = args.config_file_list
    jobs_completed = 0
    jobs_failed = 0
    print_acc(f"Running {len(config_file_list)} job{'' if len(config_file_list) == 1 else 's'}")
    for config_file in config_file_list:
        # like the real run.py, `job` is unbound when get_job fails, so on_error itself fails (ostris/ai-toolkit#437)
        try:
            job = get_job(config_file, args.name)
            job.run()
            job.cleanup()
            jobs_completed += 1
        except Exception as e:
            print_acc(f"Error running job: {e}")
            jobs_failed += 1
            try:
                job.process[0].on_error(e)
            except Exception as e2:
                print_acc(f"Error running on_error: {e2}")
            if not args.recover:
                print_end_message(jobs_completed, jobs_failed)
                raise e
        except KeyboardInterrupt as e:
            try:
                job.process[0].on_error(e)
            except Exception as e2:
                print_acc(f"Error running on_error: {e2}")
            if not args.recover:
                print_acc("")
                print_acc("========================================")
                print_acc("Job stopped")
                print_acc("========================================")
                sys.exit(0)


if __name__ == "__main__":
    main()
