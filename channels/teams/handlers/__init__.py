"""Agents SDK routes, one group per module, each with `register(agent, teams)`."""

from __future__ import annotations

from microsoft_agents.hosting.core import AgentApplication

from channels.teams.channel import TeamsChannel
from channels.teams.handlers import card_actions, installs, messages


def register_all(agent: AgentApplication, teams: TeamsChannel) -> None:
    for group in (card_actions, installs, messages):
        group.register(agent, teams)


__all__ = ["register_all"]
