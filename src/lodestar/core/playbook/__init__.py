"""The playbook file format: models, YAML loader with located errors, JSON Schema, diff."""

from lodestar.core.playbook.diff import Change, diff_playbooks
from lodestar.core.playbook.errors import Issue, LocatedError, PlaybookInvalid, format_path
from lodestar.core.playbook.events import event_catalogue
from lodestar.core.playbook.export import dump_playbook
from lodestar.core.playbook.loader import check_playbook, load_playbook, parse_playbook
from lodestar.core.playbook.model import Playbook, Stage
from lodestar.core.playbook.schema import playbook_json_schema

__all__ = [
    "Change",
    "Issue",
    "LocatedError",
    "Playbook",
    "PlaybookInvalid",
    "Stage",
    "check_playbook",
    "diff_playbooks",
    "dump_playbook",
    "event_catalogue",
    "format_path",
    "load_playbook",
    "parse_playbook",
    "playbook_json_schema",
]
