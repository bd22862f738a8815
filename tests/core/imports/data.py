"""Where the public sample files live (beside the project, never copied into it)."""

from __future__ import annotations

from lodestar.core.imports import StageInfo
from lodestar.core.rules.results import Bilingual
from tests.public_data import PUBLIC

MAVEN = PUBLIC / "maven_crm"
SALESFORCE = PUBLIC / "salesforce_devorg_sample"

STAGES = (
    StageInfo("lead", Bilingual("线索", "Lead")),
    StageInfo("qualify", Bilingual("确认需求", "Qualify")),
    StageInfo("demo", Bilingual("方案演示", "Demo")),
    StageInfo("negotiate", Bilingual("商务谈判", "Negotiation")),
    StageInfo("won", Bilingual("赢单", "Won"), "won"),
    StageInfo("lost", Bilingual("输单", "Lost"), "lost"),
)
