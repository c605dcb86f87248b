"""The verification gate: a candidate task is certified only if every check holds.

    well-formed -> solvable -> discriminative -> complete -> hard -> deterministic -> cheap

Each check lives in `checks.py` as one small function; the first that fails names the rejection.
`certify_environment` builds one environment once and certifies all its tasks together.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from synthgym.envs.family import Family, build_environment, family_source_sha256, make_task, task_fingerprint
from synthgym.envs.model import Certificate, Environment, Plan, Rejection, Task, canonical_json

from . import checks
from .checks import GateConfig, Reject

SYNTHGYM_FORMAT = "1"


@dataclass(frozen=True)
class Certified:
    task: Task
    reference: Plan
    certificate: Certificate
    verify_ms: float  # wall ms of one verdict; reported by the run, never written into a row
    gate_ms: float  # CPU ms of the whole gate (process time: steady on a shared machine)


@dataclass(frozen=True)
class EnvironmentOutcome:
    env: Environment | None
    env_json: str
    outcomes: tuple[Certified | Rejection, ...]
    build_ms: float  # CPU ms to build the environment twice (build + determinism rebuild)


def provenance(family: Family, config: GateConfig) -> dict:
    return {
        "family": family.name,
        "family_version": family.version,
        "family_source_sha256": family_source_sha256(family),
        "synthgym_format": SYNTHGYM_FORMAT,
        "gate": asdict(config),
    }


def certify(family: Family, env: Environment, rebuilt_env: Environment, task: Task, config: GateConfig) -> Certified:
    """Run every check on one candidate; raises `Reject` at the first that fails."""
    start = time.process_time()
    results = [checks.check_well_formed(family, task)]
    reference, verdict, call_results, episode = checks.run_reference_episode(family, env, task)
    results.append(checks.check_reference_calls(family, task, reference, call_results))
    results.append(checks.check_solvable(verdict))
    results.append(checks.check_negative_controls(family, env, task, reference))
    results.append(checks.check_mutations(family, env, task, reference))
    results.append(checks.check_complete(family, env, task, reference))
    results.append(checks.check_reference_effort(family, task, reference))
    results.append(checks.check_not_in_instruction(task, reference))
    baselines, rates = checks.check_baselines(family, env, task, config)
    results.append(baselines)
    results.append(checks.check_deterministic(family, rebuilt_env, task, reference, verdict))
    verify_ms = checks.measure_verify_ms(episode, reference)
    results.append(checks.check_cheap(verify_ms, config))
    certificate = Certificate(
        checks=tuple(results),
        reference_calls=len(reference.calls),
        num_tools=len(task.tool_names),
        no_tool_pass_rate=rates["no_tool"],
        random_pass_rate=rates["random"],
        greedy_pass_rate=rates["greedy"],
        provenance=provenance(family, config),
    )
    return Certified(task, reference, certificate, verify_ms, (time.process_time() - start) * 1000)


def rejection(family: Family, seed: int, env_id: str, level: int, task: Task | None, check: str, reason: str, task_id: str = "") -> Rejection:
    return Rejection(
        task_id=task.task_id if task else task_id,
        env_id=env_id,
        family=family.name,
        family_version=family.version,
        seed=seed,
        level=level,
        check=check,
        reason=reason,
        candidate=task.to_json() if task else None,
    )


def _exception_reason(exc: BaseException) -> str:
    # Type and message only: tracebacks carry paths, which would make rejections differ by checkout.
    return f"{type(exc).__name__}: {exc}"[:500]


def certify_environment(
    family: Family, seed: int, slots: list[tuple[int, list[int]]], config: GateConfig
) -> EnvironmentOutcome:
    """Build one environment and, for each slot (level, candidate indices), certify the first
    candidate that passes; every refused candidate is kept as a rejection."""
    from synthgym.envs.family import env_id_for

    env_id = env_id_for(family, seed)
    start = time.process_time()
    try:
        env = build_environment(family, seed)
        env_json = canonical_json(env.to_json())
        rebuilt = build_environment(family, seed)
        if canonical_json(rebuilt.to_json()) != env_json:
            raise Reject("deterministic", "building the environment twice from one seed gives two databases")
    except Exception as exc:
        check, reason = (exc.check, exc.reason) if isinstance(exc, Reject) else ("build", _exception_reason(exc))
        outcomes = tuple(
            rejection(family, seed, env_id, level, None, check, reason, task_id=f"{env_id}-L{level}-{indices[0]}")
            for level, indices in slots
        )
        return EnvironmentOutcome(None, "", outcomes, (time.process_time() - start) * 1000)
    build_ms = (time.process_time() - start) * 1000

    outcomes: list[Certified | Rejection] = []
    seen: set[str] = set()
    for level, indices in slots:
        for index in indices:
            task = None
            try:
                task = make_task(family, env, level, index)
                fingerprint = task_fingerprint(task)
                if fingerprint in seen:
                    raise Reject("diverse", "a near-duplicate of a task already certified in this environment")
                certified = certify(family, env, rebuilt, task, config)
            except Reject as exc:
                outcomes.append(rejection(family, seed, env_id, level, task, exc.check, exc.reason, f"{env_id}-L{level}-{index}"))
                continue
            except Exception as exc:
                check = "generate" if task is None else "gate"
                outcomes.append(rejection(family, seed, env_id, level, task, check, _exception_reason(exc), f"{env_id}-L{level}-{index}"))
                continue
            seen.add(fingerprint)
            outcomes.append(certified)
            break
    return EnvironmentOutcome(env, env_json, tuple(outcomes), build_ms)
