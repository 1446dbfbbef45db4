"""Who is using the app: sign-in, the signed-in user's role and scope, page rights, the audit trail.

Pages and ``ui`` helpers take the caller's role from :func:`role` and the area
they may read personal rows in from :func:`scope` (never build
``Scope.everything()`` themselves). The core is :mod:`geo.auth` (accounts,
password checks, throttling, lockout, session expiry) and
:mod:`geo.store.audit` (the append-only trail); this module keeps the session,
draws the sign-in form and the account box, decides which pages a role may
open and turns deep links to areas outside the scope into a "no access"
message.

The session is a row in the store (:mod:`geo.sessions`) named by a signed,
``HttpOnly`` cookie that the app's own routes set and clear (``ui/routes.py``:
a Streamlit script cannot set a cookie), read here through
``st.context.cookies``. So a reload, a new tab, a restart and another
replica find the same session and its language, and signing out, ``sibai
user passwd`` or ``sibai user disable`` end it everywhere on the next rerun.
A single-sign-on session (and a test's) has no cookie of ours: its signed
value is kept under a private key of ``st.session_state`` instead, and is
checked against the store just the same. Anything else in the session state
(``st.session_state["role"] = "district"``, a forged value) grants nothing.

What each role sees is described in ``docs/security.md`` ("What each role sees
in the app").
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from typing import Any, NoReturn

import streamlit as st

from geo import auth as core
from geo import sessions
from geo.access import Sight
from geo.clock import local_now
from geo.store import OutOfScope, Scope, number_id
from geo.store import audit as trail
from geo.text import plain
from ui import data, routes
from ui.i18n import LANGS, lang, t

PUBLIC = core.PUBLIC
STAFF = frozenset(core.ROLES)
EVERYONE = frozenset({*core.ROLES, PUBLIC})
DISTRICT_ONLY = frozenset({"district"})

PAGES: Mapping[str, frozenset[str]] = {
    "map": STAFF,
    "grid": STAFF,
    "walk": STAFF,
    "uncovered": STAFF,
    "issues": STAFF,
    "workers": STAFF,
    "public": EVERYONE,
    "data": DISTRICT_ONLY,
    "audit": DISTRICT_ONLY,
    "signin": frozenset({PUBLIC}),
}
"""Which roles may open each page (by its url path). Street, committee and grid pages are scoped."""

AREA_PARAMS = ("street", "committee", "grid", "building", "household", "issue")
"""Query parameters that name an area or a record in one; checked against the scope on every page."""

SESSION_KEY = "_sibai_session"
_FLASH_KEY = "_sibai_auth_flash"
_DENIED_KEY = "_sibai_denied"
_SSO_OFF_KEY = "_sibai_sso_off"
_SSO_LOGOUT_KEY = "_sibai_sso_logout"
_SIGNED_OUT_KEY = "_sibai_signed_out"
_LANG_KEY = "_sibai_lang_of"  # the session whose language this Streamlit session has taken on

_local = threading.local()


def now() -> dt.datetime:
    """Return the local time (settings ``timezone``) without a zone, as the audit trail records it."""
    return local_now(data.settings())


def session_for(store: Any, name: str, password: str) -> str:
    """Sign in through :func:`geo.auth.authenticate`; return the session's value (tests put it in the state).

    Raises :class:`geo.auth.AuthError` like the sign-in route would answer.
    """
    user = core.authenticate(store, name, password)
    return sessions.start(store, user, via="password", lang=lang())


def _value() -> str | None:
    """Return the signed session value of this browser: held in the state (SSO, tests), else the cookie."""
    held = st.session_state.get(SESSION_KEY)
    if held is not None:
        if isinstance(held, str):
            return held
        st.session_state.pop(SESSION_KEY, None)  # no value of ours: grants nothing
    return _cookie(sessions.COOKIE)


def _cookie(name: str) -> str | None:
    value = st.context.cookies.get(name)
    return value if isinstance(value, str) and value else None


# ----------------------------------------------------------------- who


def _run_token() -> tuple[str, object] | None:
    """Return something that identifies this script run (its session and its per-run coordinator)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:
        return None
    return ctx.session_id, getattr(ctx, "parallel_coordinator", None)


def _this_run(token: tuple[str, object] | None) -> bool:
    resolved = getattr(_local, "resolved", None)
    return (
        token is not None
        and resolved is not None
        and resolved[0] == token[0]
        and resolved[1] is token[1]
        and token[1] is not None
    )


def start_run() -> None:
    """Resolve who is signed in for this run (once per run: ``app.py`` and :func:`require` call it).

    Ends expired sessions and sessions of accounts that were disabled or
    removed meanwhile (with a message), maps a single sign-on identity to its
    account, marks the session active and keeps its language in step with the
    sidebar's.
    """
    token = _run_token()
    if _this_run(token):
        return
    if st.session_state.pop(_SSO_LOGOUT_KEY, False):
        st.logout()
    value, session = _resolve(touch=True)
    if session is not None and value is not None:
        _follow_language(value, session)
    if token is not None:
        _local.resolved = (token[0], token[1], None if session is None else session.user, value)


def _follow_language(value: str, session: sessions.Session) -> None:
    if st.session_state.get(_LANG_KEY) != value:
        # A new tab, a reload, another replica: the language the person chose, unless the
        # link asks for one (?lang=en in a shared link), which then becomes their choice.
        asked = st.query_params.get("lang")
        if asked in LANGS and asked != session.lang:
            sessions.set_lang(data.store(), value, asked)
        st.session_state["lang"] = asked if asked in LANGS else session.lang
        st.session_state[_LANG_KEY] = value
    elif lang() != session.lang:
        sessions.set_lang(data.store(), value, lang())  # chosen in the sidebar just now


def _resolve(*, touch: bool) -> tuple[str | None, sessions.Session | None]:
    value = _value()
    if value is None:
        found = _from_sso() if touch else None
        return (st.session_state.get(SESSION_KEY), found) if found is not None else (None, None)
    session, why = sessions.resume(data.store(), value)
    if session is None:
        held = st.session_state.pop(SESSION_KEY, None) is not None
        if not why and st.session_state.get(_LANG_KEY) == value:
            why = "ended"  # it was live in this tab: ended elsewhere (another tab, `sibai user ...`)
        if why:
            st.session_state.pop(_LANG_KEY, None)
            st.session_state[_FLASH_KEY] = t(f"auth.{why}" if why != "disabled" else "auth.disabled_now")
            if held:  # single sign-on: do not sign the same identity in again by itself
                st.session_state[_SSO_OFF_KEY] = True
        if touch and not held:
            found = _from_sso()
            if found is not None:
                return st.session_state.get(SESSION_KEY), found
        return None, None
    return value, session


def current() -> core.User | None:
    """Return the signed-in account (fresh from the store), or None for the public."""
    if _this_run(_run_token()):
        _sid, _coordinator, cached, value = _local.resolved
        if value == _value():  # still the same session (not signed out by a callback since)
            return cached  # type: ignore[no-any-return,unused-ignore]
    session = _resolve(touch=False)[1]
    return None if session is None else session.user


def role() -> str:
    """Return the session's role: ``district``, ``street``, ``committee``, ``grid`` or ``public``."""
    u = current()
    return u.role if u is not None else PUBLIC


def user() -> str:
    """Return the signed-in user's name (for the audit trail); ``anonymous`` for the public."""
    u = current()
    return u.name if u is not None else "anonymous"


def scope() -> Scope:
    """Return the area the session may read personal rows in (nothing for the public)."""
    u = current()
    return u.scope if u is not None else Scope()


def is_staff() -> bool:
    """Tell whether the session is signed in with a staff role."""
    return role() in STAFF


def may_use(page: str, who: str | None = None) -> bool:
    """Tell whether role ``who`` (default: the session's) may open ``page`` (a url path of PAGES)."""
    return (who or role()) in PAGES.get(page, frozenset())


# ----------------------------------------------------------- areas in scope


@st.cache_resource(show_spinner=False, max_entries=256)
def _areas_of(sc: Scope, reset_version: int, db: str) -> dict[str, frozenset[str]]:
    """Return the grids a scope reaches, and the committees and streets it holds whole."""
    del reset_version, db  # cache keys: the layers change only when data is replaced
    g = data.layers().grids
    keep = (
        g["grid_id"].isin(sc.grids) | g["committee_id"].isin(sc.committees) | g["street_id"].isin(sc.streets)
    )
    out = {"grid": frozenset(g.loc[keep, "grid_id"].astype(str))}
    for level in ("committee", "street"):
        inside = keep.groupby(g[f"{level}_id"]).all()
        out[level] = frozenset(inside[inside].index.astype(str))
    return out


def _visible(level: str) -> frozenset[str] | None:
    sc = scope()
    if sc.is_everything:
        return None
    return _areas_of(sc, data.store().versions()[1], data.settings().db)[level]


def visible_grids() -> frozenset[str] | None:
    """Return the grids whose figures the session may see (None: every grid, the district role)."""
    return _visible("grid")


def visible_committees() -> frozenset[str] | None:
    """Return committees whose every grid is visible (None: all). Only whole areas show aggregates."""
    return _visible("committee")


def visible_streets() -> frozenset[str] | None:
    """Return streets whose every grid is visible (None: all)."""
    return _visible("street")


def sight() -> Sight:
    """Return what the session may see figures of, per level (the rules are in :mod:`geo.access`)."""
    return Sight(grids=visible_grids(), committees=visible_committees(), streets=visible_streets())


def sees(level: str, area_id: str) -> bool:
    """Tell whether the session may see figures of one street, committee or grid."""
    vis = {"grid": visible_grids, "committee": visible_committees, "street": visible_streets}[level]()
    return vis is None or area_id in vis


# ------------------------------------------------------------- audit trail


def audit(
    action: str, target: str, detail: str = "", *, who: str | None = None, as_role: str | None = None
) -> None:
    """Append one row to the audit trail for the session (who, role, now)."""
    trail.log(
        data.store(),
        who=who if who is not None else user(),
        role=as_role if as_role is not None else role(),
        action=action,
        target=target,
        detail=detail,
    )


# ------------------------------------------------------------ deep links


def _exists_outside(kind: str, value: str) -> bool:
    """Tell whether record ``value`` (a building, household or issue) exists but lies outside the scope.

    An unknown id is the page's to report ("no such ..."); a foreign one is refused here.
    """
    if kind == "issue" and number_id(value) is None:
        return False  # no such issue: issue ids are numbers
    try:
        data.store().check_scope(kind, value, scope=scope())
    except OutOfScope:
        return True
    return False


def foreign_param() -> tuple[str, str] | None:
    """Return the first ``(param, value)`` of the link that names an area or record outside the scope."""
    if role() == "district":
        return None
    layers = data.layers()
    known = {
        "street": set(layers.streets["street_id"]),
        "committee": set(layers.committees["committee_id"]),
        "grid": set(layers.grids["grid_id"]),
    }
    for key in AREA_PARAMS:
        value = st.query_params.get(key)
        if not value:
            continue
        if key in known:
            if value in known[key] and not sees(key, value):
                return key, value
        elif _exists_outside(key, value):
            return key, value
    return None


def clear_area_params() -> None:
    """Callback: drop every area parameter from the link."""
    for key in AREA_PARAMS:
        st.query_params.pop(key, None)


def deny(kind: str, value: str, *, page: str) -> NoReturn:
    """Show "no access" (nothing else about the area), log a ``denied`` row once per session, stop."""
    target = f"{kind}:{value}"
    logged = st.session_state.setdefault(_DENIED_KEY, set())
    if (page, target) not in logged:
        logged.add((page, target))
        audit("denied", target, f"page:{page}")
    st.error(t("auth.no_access", what=t(f"what.{kind}")))
    st.button(t("auth.clear_link"), on_click=clear_area_params, key="auth_clear_link")
    st.stop()


def guard_link(page: str) -> None:
    """Refuse a link (``?grid=``, ``?household=`` …) to anything outside the scope: "no access", stop."""
    if page in ("public", "signin"):
        return  # these pages read no area from the link
    hit = foreign_param()
    if hit is not None:
        deny(*hit, page=page)


def require(page: str) -> None:
    """Gate a page: resolve the session, then stop unless the role may open ``page`` and the link is in scope.

    Every page calls this first. ``app.py`` does too, but Streamlit may run a
    page file without ``app.py`` (a deep link as a server process's very
    first request, and every page run under AppTest), so the page's own call
    is what enforces access.
    """
    start_run()
    guard_page(page)
    guard_link(page)


def guard_page(page: str) -> None:
    """Stop with the sign-in form (public) or "no access" (signed in) unless the role may open ``page``."""
    if may_use(page):
        return
    if not is_staff():
        flash = st.session_state.pop(_FLASH_KEY, None)  # not drawn by app.py's account box this run
        if flash:
            st.warning(plain(flash))
        st.info(t("auth.sign_in_needed"))
        sign_in_form()
        st.stop()
    logged = st.session_state.setdefault(_DENIED_KEY, set())
    if (page, "page") not in logged:
        logged.add((page, "page"))
        audit("denied", f"page:{page}")
    st.error(t("auth.page_denied"))
    st.stop()


# --------------------------------------------------------------- sign-in


def _form_html(action: str, fields: dict[str, str], body: str, *, name: str) -> str:
    hidden = "".join(f'<input type="hidden" name="{k}" value="{plain(v)}">' for k, v in fields.items())
    return f'<form method="post" action="{action}" name="{name}" style="margin:0">{hidden}{body}</form>'


_INPUT = 'style="display:block;width:100%;max-width:24rem;padding:.4rem;margin:.2rem 0 .8rem"'
_BUTTON = 'style="padding:.4rem 1.2rem;border-radius:.5rem;border:1px solid #ccc;cursor:pointer"'


def _csrf() -> str | None:
    return _cookie(sessions.CSRF_COOKIE)


def sign_in_form() -> None:
    """Draw the sign-in form (name, password), which posts to the app's sign-in route, and the SSO button.

    The route sets the session cookie and comes back to this page's address (with its link);
    a refusal comes back as ``?signin=<reason>`` and is shown here once.
    """
    reason = st.query_params.get(routes.ERROR_PARAM)
    if reason in core.REASONS:
        st.error(t(f"auth.err.{reason}"))
        del st.query_params[routes.ERROR_PARAM]
    csrf = _csrf()
    if not routes.MOUNTED:
        st.warning(t("auth.no_routes"))
    elif not csrf:
        st.warning(t("auth.reload"))
    else:
        body = (
            f'<label>{plain(t("auth.name"))}<input name="user" autocomplete="username" '
            f'maxlength="64" required {_INPUT}></label>'
            f'<label>{plain(t("auth.password"))}<input name="password" type="password" '
            f'autocomplete="current-password" maxlength="256" required {_INPUT}></label>'
            f'<button type="submit" {_BUTTON}>{plain(t("auth.submit"))}</button>'
        )
        fields = {"csrf": csrf, "ui_lang": lang()}  # the route comes back to this page (its Referer)
        st.html(_form_html(routes.SIGN_IN, fields, body, name="sibai-signin"))
    if sso_configured() and st.button(t("auth.sso"), key="signin_sso"):
        st.session_state.pop(_SSO_OFF_KEY, None)
        provider = data.settings().sso_provider
        st.login(provider) if provider else st.login()


def sso_configured() -> bool:
    """Tell whether single sign-on is configured (an ``[auth]`` section in ``secrets.toml``)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit's FileNotFoundError or its own
        return False


def _sso_identity() -> str | None:
    try:
        logged_in = bool(st.user.get("is_logged_in", False))
    except Exception:  # st.user is unavailable outside a session
        return None
    if not logged_in:
        return None
    value = st.user.get(data.settings().sso_claim)
    return str(value) if value else None


_UNKNOWN_KEY = "_sibai_sso_unknown"


def _from_sso() -> sessions.Session | None:
    st.session_state.pop(_UNKNOWN_KEY, None)
    if st.session_state.get(_SSO_OFF_KEY):
        return None
    identity = _sso_identity()
    if identity is None:
        return None
    store = data.store()
    found = core.user_for_identity(store, identity)
    if found is None or found.disabled:
        st.session_state[_UNKNOWN_KEY] = identity
        if found is None:
            audit(
                "login_failed",
                f"sso:{identity}",
                "no account for this identity",
                who=identity,
                as_role=PUBLIC,
            )
        return None
    # Streamlit's own identity cookie is what a reload brings back; the session row
    # behind it is kept in the state (a script cannot set a cookie of ours).
    value = sessions.start(store, found, via="sso", lang=lang())
    st.session_state[SESSION_KEY] = value
    audit("login", f"user:{found.name}", "single sign-on", who=found.name, as_role=found.role)
    return sessions.resume(store, value)[0]


def sign_out() -> None:
    """Callback of the sign-out button of a session held in the state (single sign-on): end it, log it."""
    value = st.session_state.pop(SESSION_KEY, None)
    if isinstance(value, str) and sessions.end(data.store(), value):
        st.session_state[_SSO_LOGOUT_KEY] = True  # and Streamlit's identity cookie
        st.session_state[_SSO_OFF_KEY] = True
    st.session_state[_FLASH_KEY] = t("auth.signed_out")
    st.session_state[_SIGNED_OUT_KEY] = True
    st.session_state.pop(_DENIED_KEY, None)
    st.session_state.pop("unmasked", None)


def just_signed_out() -> bool:
    """Tell (once) whether the session signed out in this run's callback: app.py then goes home."""
    return bool(st.session_state.pop(_SIGNED_OUT_KEY, False))


def _sso_logout() -> None:
    st.session_state.pop(_UNKNOWN_KEY, None)
    st.session_state[_SSO_LOGOUT_KEY] = True


def areas_text(u: core.User) -> str:
    """Return the user's areas as names (ids where unknown)."""
    if u.role == "district":
        return t("district")
    layers = data.layers()
    level = u.role
    frame = getattr(layers, f"{level}s")
    names = dict(zip(frame[f"{level}_id"], frame["name"], strict=True))
    sep = "、" if lang() == "zh" else ", "
    return sep.join(str(names.get(a, a)) for a in u.areas) or "—"


def account_box() -> None:
    """Draw who is signed in (name, role, areas) and the sign-out button at the top of the sidebar."""
    sb = st.sidebar
    flash = st.session_state.pop(_FLASH_KEY, None)
    if flash:
        sb.info(plain(flash))
    u = current()
    if u is not None:
        sb.markdown(f"**{t('auth.signed_in_as')}** {plain(u.name)}")
        sb.caption(f"{t(f'auth.role.{u.role}')} · {plain(areas_text(u))}")
        if st.session_state.get(SESSION_KEY) is not None or not _csrf():
            sb.button(t("auth.sign_out"), on_click=sign_out, key="auth_sign_out")
        else:  # the browser's cookie: the sign-out route clears it (in every tab of this browser)
            button = f'<button type="submit" {_BUTTON}>{plain(t("auth.sign_out"))}</button>'
            fields = {"csrf": _csrf() or "", "next": f"/?lang={lang()}"}  # signed out, same language
            sb.html(_form_html(routes.SIGN_OUT, fields, button, name="sibai-signout"))
        return
    unknown = st.session_state.get(_UNKNOWN_KEY)
    if unknown:
        sb.warning(t("auth.sso_unknown", identity=plain(unknown)))
        sb.button(t("auth.sso_logout"), on_click=_sso_logout, key="auth_sso_logout")
    else:
        sb.caption(t("auth.public_caption"))


def sign_in_page() -> None:
    """The sign-in page (for visitors; signed-in users are told who they are)."""
    st.title(t("auth.title"), anchor=False)
    u = current()
    if u is not None:
        st.success(t("auth.already", name=plain(u.name)))
        return
    st.caption(t("auth.hint"))
    sign_in_form()
