"""Page sections that higher apps add to a lower app's page without the lower app importing them.

The account page belongs to ``accounts``, but its timeline, appointments and tasks belong to
``activities`` (and later deals, orders, contracts and cases to their apps). Each app registers
a section in its ``AppConfig.ready()``::

    from tokui.core.sections import Section, account_sections

    account_sections.register(
        Section("timeline", "activities/_account_timeline.html", timeline_context, place="side")
    )

and the page renders what is registered for each place, in ``order``. ``context(request, obj)``
returns the section's template context, or None to leave the section out (e.g. for a viewer
who may not see it).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

SectionContext = Callable[[HttpRequest, Any], dict[str, Any] | None]


@dataclass(frozen=True)
class Section:
    name: str
    template: str
    context: SectionContext
    place: str = "main"  # "actions" (page head buttons), "main" (left column), "side" (right)
    order: int = 100


class SectionRegistry:
    def __init__(self, name: str) -> None:
        self.name = name
        self._sections: dict[str, Section] = {}

    def register(self, section: Section) -> None:
        """Add or replace (by name) a section."""
        self._sections[section.name] = section

    def unregister(self, name: str) -> None:
        self._sections.pop(name, None)

    def sections(self, place: str) -> list[Section]:
        found = [s for s in self._sections.values() if s.place == place]
        return sorted(found, key=lambda s: (s.order, s.name))

    def render(self, request: HttpRequest, obj: Any) -> dict[str, list[SafeString]]:
        """The rendered sections of every place, for the page's template: ``{place: [html]}``."""
        rendered: dict[str, list[SafeString]] = {}
        for place in sorted({s.place for s in self._sections.values()}):
            for section in self.sections(place):
                context = section.context(request, obj)
                if context is None:
                    continue
                # Rendered by the template engine, so already escaped and safe to embed.
                html = render_to_string(section.template, context, request=request)
                rendered.setdefault(place, []).append(html)
        return rendered


# The account page and the contact page; the object passed to ``context`` is the account or
# contact, already checked to be visible to ``request.user``.
account_sections = SectionRegistry("account_sections")
contact_sections = SectionRegistry("contact_sections")
