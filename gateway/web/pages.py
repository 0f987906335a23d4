"""The pages for people rather than partner systems — the privacy officer's ``/audit`` and the
chain coordinator's ``/keten``: one template set, the same safe headers, no partner
certificates, a login under the area's own login role, and every page view an audit record.

A :class:`LoginArea` holds what differs between the two (path, cookie, login role, names);
the page modules (:mod:`gateway.web.audit_pages`, :mod:`gateway.web.keten_pages`) hold only
their own routes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from gateway.audit.inzage import lokale_tijd
from gateway.domain.errors import Transient
from gateway.observe.logs import get_logger
from gateway.runtime.officers import Officers, Sessions
from gateway.web.callers import client_identity, deny, parts_of

__all__ = ["LoginArea", "templates"]

log = get_logger("ketenpoort.pages")

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def _dutch_time(moment: dt.datetime | str | None) -> str:
    """A record's time (an ISO string or a datetime) in Dutch local time."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return lokale_tijd(moment)


templates.env.filters["nl"] = _dutch_time


@dataclass(frozen=True)
class LoginArea:
    """One area of pages for people: under ``pad``, for the login role ``rol``, with its
    session cookie, its login template, the template variable naming the logged-in person,
    and the names of its refusal and log events."""

    pad: str  # "/audit"
    rol: str  # a login role of gateway.runtime.officers
    cookie: str
    login_template: str
    gebruiker: str  # the template variable holding the logged-in name
    partner_weigering: str  # the audit reason when a partner certificate knocks
    partner_melding: str  # the 403 detail then
    ingelogd: str  # the log event of a login
    bekeken: str  # the log event of a page view

    async def refuse_partner(self, request: Request) -> None:
        """A partner system's certificate: these pages are not for partners (403, audited)."""
        who = client_identity(request)
        if who is not None:
            await deny(parts_of(request), self.partner_weigering, request.url.path, who.oin)
            raise HTTPException(403, self.partner_melding)

    async def wie(self, request: Request) -> str | None:
        """The logged-in person of this area's login role, or None."""
        await self.refuse_partner(request)
        sessions: Sessions = request.app.state.sessions
        return sessions.read(request.cookies.get(self.cookie), rol=self.rol)

    def page(self, request: Request, name: str, naam: str | None, **context: Any) -> HTMLResponse:
        """A template, not cached, not framed, nothing loaded from elsewhere."""
        response = templates.TemplateResponse(
            request,
            name,
            {self.gebruiker: naam, "gateway": parts_of(request).settings.gateway_oin, **context},
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; style-src 'unsafe-inline'"
        )
        response.headers["X-Frame-Options"] = "DENY"
        return response

    def login_redirect(self) -> RedirectResponse:
        return RedirectResponse(f"{self.pad}/login", status_code=303)

    async def login(self, request: Request, naam: str, wachtwoord: str) -> Response:
        """Check name and password for this area's login role: a session cookie scoped to the
        area, or 401 (audited) with the form again."""
        await self.refuse_partner(request)
        officers: Officers = request.app.state.officers
        sessions: Sessions = request.app.state.sessions
        who = await asyncio.to_thread(officers.check, naam, wachtwoord, self.rol)
        if who is None:
            await deny(parts_of(request), "login-mislukt", request.url.path, None)
            response = self.page(
                request, self.login_template, None, fout="Onbekende naam of onjuist wachtwoord."
            )
            response.status_code = 401
            return response
        log.info(self.ingelogd, lezer=who)
        redirect = RedirectResponse(self.pad, status_code=303)
        redirect.set_cookie(
            self.cookie,
            sessions.issue(who, rol=self.rol),
            max_age=sessions.seconds,
            httponly=True,
            secure=True,
            samesite="strict",
            path=self.pad,
        )
        return redirect

    def logout(self) -> Response:
        response = self.login_redirect()
        response.delete_cookie(self.cookie, path=self.pad)
        return response

    async def viewed(
        self,
        request: Request,
        naam: str,
        pagina: str,
        *,
        betrokkene: str | None = None,
        bericht_id: str | None = None,
        **gelogd: object,
    ) -> None:
        """Every page view is an audit record (fail closed: no record, no page); ``gelogd``:
        what the log line says of the view besides reader and page (no personal data)."""
        parts = parts_of(request)
        try:
            await parts.audit.append(
                [
                    parts.trail.pagina(
                        naam,
                        pagina,
                        str(uuid.uuid4()),
                        parts.policy.bewaartermijn_dagen(),
                        betrokkene=betrokkene,
                        bericht_id=bericht_id,
                    )
                ]
            )
        except Transient as exc:
            raise HTTPException(503, "the audit store cannot be written: no pages now") from exc
        log.info(self.bekeken, lezer=naam, pagina=pagina, **gelogd)
