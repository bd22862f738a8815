from __future__ import annotations

from datetime import timedelta

from lodestar.core.playbook import model
from lodestar.core.scoring import (
    HealthConfig,
    RiskConfig,
    ScorecardConfig,
    action_key,
    health_config_from,
    required_action_sets_from,
    risk_config_from,
    scorecard_config_from,
)


def test_it_takes_weights_and_threshold_from_the_health_section() -> None:
    policy = model.HealthPolicy.model_validate(
        {
            "threshold": 65,
            "weights": {
                "dwell_deviation": 0.5,
                "task_on_time": 0.25,
                "interaction_frequency": 0.25,
            },
        }
    )
    config = health_config_from(policy, base=HealthConfig(window=timedelta(days=14)))
    assert config.threshold == 65
    assert config.weights == (0.5, 0.25, 0.25)
    assert config.window == timedelta(days=14)


def test_it_takes_the_seed_limits_from_a_default_risks_section() -> None:
    config = risk_config_from(model.RiskPolicy())
    assert config.backward_moves.at_least == 2
    assert config.silence.after == timedelta(hours=72)
    assert config.stale.after == timedelta(days=47)


def test_it_takes_the_scorecard_section() -> None:
    config = scorecard_config_from(model.ScorecardPolicy.model_validate({"min_chars": 500}))
    assert config.min_chars == 500
    assert config.threshold == 75
    assert config.consecutive_below == 3


def test_the_scoring_configs_default_to_the_playbook_sections() -> None:
    assert risk_config_from(model.RiskPolicy()) == RiskConfig()
    assert scorecard_config_from(model.ScorecardPolicy()) == ScorecardConfig()
    assert health_config_from(model.HealthPolicy()) == HealthConfig()


def test_it_keys_required_actions_by_event_or_attachment() -> None:
    section = model.RequiredActionSet.model_validate(
        {
            "id": "key_monthly",
            "name": "重点客户月度动作",
            "account_tiers": ["key"],
            "actions": [
                {"attachment": "inspection_report"},
                {"event": "tech_param_sync", "count": 2},
                {"event": "competitor_update"},
            ],
        }
    )
    (built,) = required_action_sets_from([section])
    assert [(a.key, a.count) for a in built.actions] == [
        ("attachment:inspection_report", 1),
        ("event:tech_param_sync", 2),
        ("event:competitor_update", 1),
    ]
    assert built.applies_to("key")
    assert not built.applies_to("normal")


def test_an_action_key_names_its_source() -> None:
    assert action_key(event="demo_held") == "event:demo_held"
