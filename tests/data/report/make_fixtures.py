#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the report fixtures beside this file (tests/report_html.sh reads
them): full.json, a 21-day report of 2 clients and 6 inboxes in all four
verdicts; empty.json, one client and no inbox; hostile.json, markup, quotes
and ampersands in every string; missing.json, fields missing, null or of the
wrong type. The figures follow include/hearth/readiness.h closely enough to
look real; they are fixtures, not a second implementation of the rule.
Deterministic: run it again after a change to the report's layout."""
import datetime
import json
import os
import random

os.chdir(os.path.dirname(os.path.abspath(__file__)))


def save(name, report):
    with open(name, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")


random.seed(7)
AS_OF = datetime.date(2026, 3, 21)
RULES = {"window_days": 7, "min_inbox_share": 0.9, "min_measured": 20,
         "max_spam_share": 0.05, "max_bounce_share": 0.03, "auth_clear_days": 3,
         "cold_min": 30, "cold_max": 50}

def planned_for(step, days=21, start=2, target=40):
    return round(start + (target - start) * min(step, days - 1) / (days - 1))

def make_history(n_days, first_step, placement, paused_from=None, spam_days=()):
    hist = []
    start = AS_OF - datetime.timedelta(days=n_days - 1)
    for i in range(n_days):
        day = start + datetime.timedelta(days=i)
        step = first_step + i
        planned = planned_for(step)
        if paused_from is not None and i >= paused_from:
            planned = 0
        failed = 1 if planned and random.random() < 0.08 else 0
        sent = planned - failed
        bounced = 1 if sent and random.random() < 0.03 else 0
        delivered = sent - bounced
        p_inbox, p_spam, p_other = placement(i)
        spam = round(delivered * p_spam)
        if i in spam_days:
            spam = max(spam, round(delivered * 0.3))
        other = round(delivered * p_other)
        missing = 1 if delivered > 5 and random.random() < 0.2 else 0
        inbox = max(delivered - spam - other - missing, 0)
        rescued = spam
        read = round(inbox * 0.6)
        flagged = round(inbox * 0.1)
        replied = round(inbox * 0.25)
        hist.append({"day": day.isoformat(), "volume": planned, "planned": planned,
                     "sent": sent, "inbox": inbox, "spam": spam, "other": other,
                     "missing": missing, "rescued": rescued, "read": read,
                     "flagged": flagged, "replied": replied, "failed": failed,
                     "bounced": bounced, "step": min(step + 1, 21)})
    return hist

def window(hist, days=7):
    w = hist[-days:]
    s = lambda k: sum(d[k] for d in w)
    inbox, spam, other, missing, sent, bounced = (s(k) for k in
        ("inbox", "spam", "other", "missing", "sent", "bounced"))
    measured = inbox + spam + other
    total = inbox + spam + other + missing
    return {"days": days, "measured": measured, "inbox": inbox, "spam": spam,
            "other": other, "missing": missing, "sent": sent, "bounced": bounced,
            "inbox_share": round(inbox / total, 4) if total else 0,
            "spam_share": round(spam / total, 4) if total else 0,
            "bounce_share": round(bounced / sent, 4) if sent else 0}

def score(verdict, w, step, days, hist):
    s = 0
    sh = w["inbox_share"]
    s += 40 * max(0, min(1, (sh - 0.5) / 0.5))
    s += 20 * min(1, step / days)
    s += 15 * min(1, w["measured"] / 20)
    s += 10 if sum(d["spam"] for d in hist[-3:]) == 0 else 0
    s += 10 if w["bounce_share"] < 0.03 else 0
    s += 5
    if verdict == "paused":
        s = min(s, 20)
    return round(s)

def pct(x):
    return f"{round(x * 100)}%"

inboxes = []
def add(address, client, domain, provider, n_days, first_step, placement,
        verdict, state="active", state_reason=None, paused_from=None,
        spam_days=(), extra_reasons=()):
    hist = make_history(n_days, first_step, placement, paused_from, spam_days)
    step = hist[-1]["step"]
    w = window(hist)
    sc = score(verdict, w, step, 21, hist)
    if verdict == "ready":
        cold = round(30 + 20 * (w["inbox_share"] - 0.9) / 0.1)
        cold = max(30, min(50, cold))
    elif verdict == "warming":
        cold = 5 if step >= 11 else 0
    else:
        cold = 0
    reasons = []
    if verdict == "paused":
        reasons.append(state_reason)
    reasons += list(extra_reasons)
    reasons.append(f"Inbox placement {pct(w['inbox_share'])} over the last 7 days "
                   f"({w['inbox']} of {w['measured'] + w['missing']} sent messages measured).")
    if step < 21:
        reasons.append(f"The ramp is at day {step} of 21.")
    else:
        reasons.append("The ramp is complete (21 days).")
    if w["spam"]:
        reasons.append(f"{w['spam']} messages landed in spam in the last 7 days.")
    if w["bounced"]:
        reasons.append(f"{w['bounced']} of {w['sent']} messages bounced in the last 7 days.")
    inboxes.append({"address": address, "client": client, "domain": domain,
        "provider": provider, "state": state, "state_reason": state_reason,
        "ramp_profile": "standard",
        "ramp": {"step": step, "days": 21, "complete": step >= 21},
        "verdict": verdict, "score": sc, "cold_per_day": cold,
        "reasons": reasons, "window": w, "history": hist})

good = lambda i: (0.97, 0.01, 0.0)
add("sam@acme-roofing.test", "acme", "acme-roofing.test", "gmail", 21, 0, good, "ready")
add("quotes@acme-roofing.test", "acme", "acme-roofing.test", "outlook", 12, 0,
    lambda i: (0.9, 0.04, 0.03), "warming")
add("jo@acmemail.test", "acme", "acmemail.test", "yahoo", 21, 0,
    lambda i: (0.85, 0.1 if i > 14 else 0.02, 0.02), "at risk", spam_days=(18, 19, 20),
    extra_reasons=["Spam share 24% over the last 7 days, above the 5% allowed."])
add("anna@northwind.test", "northwind", "northwind.test", "gmail", 21, 0,
    lambda i: (0.99, 0.0, 0.0), "ready")
add("sales@northwind.test", "northwind", "northwind.test", "generic", 21, 0,
    lambda i: (0.95, 0.02, 0.0), "paused", state="paused",
    state_reason="Paused by hearth: the SMTP server refused the login (535 5.7.8) on 2026-03-15.",
    paused_from=15)
add("info@nwtraders.test", "northwind", "nwtraders.test", "outlook", 9, 0,
    lambda i: (0.92, 0.03, 0.02), "warming")

def rollup(items):
    r = {"inboxes": len(items), "ready": 0, "warming": 0, "at_risk": 0, "paused": 0,
         "measured": 0, "inbox": 0, "spam": 0}
    for it in items:
        r[{"ready": "ready", "warming": "warming", "at risk": "at_risk",
           "paused": "paused"}[it["verdict"]]] += 1
        for k in ("measured", "inbox", "spam"):
            r[k] += it["window"][k]
    r["inbox_share"] = round(r["inbox"] / r["measured"], 4) if r["measured"] else 0
    r["score"] = round(sum(i["score"] for i in items) / len(items)) if items else 0
    r["cold_per_day"] = sum(i["cold_per_day"] for i in items)
    return r

clients = []
for name, dn in (("acme", "Acme Roofing Ltd"), ("northwind", "Northwind Traders")):
    its = [i for i in inboxes if i["client"] == name]
    doms = []
    for d in dict.fromkeys(i["domain"] for i in its):
        doms.append({"name": d, "rollup": rollup([i for i in its if i["domain"] == d])})
    clients.append({"name": name, "display_name": dn, "rollup": rollup(its), "domains": doms})

report = {"schema": "hearth-report/1", "generated_at": "2026-03-21T08:15:42Z",
          "as_of": AS_OF.isoformat(), "since": "2026-03-01",
          "scope": {"client": None, "inbox": None}, "rules": RULES,
          "summary": rollup(inboxes), "clients": clients, "inboxes": inboxes}
save("full.json", report)
empty = {"schema": "hearth-report/1", "generated_at": "2026-03-21T08:15:42Z",
         "as_of": "2026-03-21", "since": None,
         "scope": {"client": "globex", "inbox": None}, "rules": RULES,
         "summary": rollup([]),
         "clients": [{"name": "globex", "display_name": "Globex Corporation",
                      "rollup": rollup([]), "domains": []}],
         "inboxes": []}
save("empty.json", empty)

# hostile: markup, quotes and ampersands everywhere a string goes
X = '<script>alert("x")</script>'
hist = make_history(5, 16, good)
hist[2]["day"] = "<b>03-19</b>&amp;"
hostile = {"schema": "hearth-report/1", "generated_at": "2026-03-21T08:15:42Z\"><script>alert(1)</script>",
    "as_of": "2026-03-21</title><script>alert(2)</script>", "since": "' onmouseover='alert(3)",
    "scope": {"client": "evil", "inbox": "\"><img src=x onerror=alert(4)>@evil.test"},
    "rules": RULES, "summary": rollup(inboxes[:1]),
    "clients": [{"name": "evil", "display_name": X + " & Sons' \"Ltd\"",
                 "rollup": rollup(inboxes[:1]),
                 "domains": [{"name": "<svg onload=alert(5)>.test", "rollup": rollup(inboxes[:1])}]}],
    "inboxes": [{"address": "\"><script>alert(6)</script>@evil.test", "client": "evil",
                 "domain": "<svg onload=alert(5)>.test", "provider": "gmail&amp;<i>",
                 "state": "paused", "state_reason": "<!-- comment --> ]]> & <![CDATA[ x ]]>",
                 "ramp_profile": "</style><style>body{display:none}</style>",
                 "ramp": {"step": 21, "days": 21, "complete": True},
                 "verdict": "<b>ready</b>", "score": 50, "cold_per_day": 0,
                 "reasons": ["<img src=x onerror=alert(7)> & 'quoted' \"double\"",
                             "javascript:alert(8) &lt;already escaped&gt;",
                             "ctrl\u0001chars\u007f and \ufffe gone, caf\u00e9 \u2713 stays"],
                 "window": window(hist), "history": hist}]}
save("hostile.json", hostile)

# missing: fields missing, null, or of the wrong type everywhere
long_hist = [{"day": (AS_OF - datetime.timedelta(days=449 - i)).isoformat(),
              "planned": 10 + i % 30, "sent": 10 + i % 29, "inbox": 9 + i % 29,
              "spam": i % 2} for i in range(450)]
missing = {"schema": "hearth-report/1", "generated_at": 20260321, "as_of": None,
    "scope": "everything", "rules": {"window_days": "seven", "min_inbox_share": 9,
                                     "cold_min": -5},
    "clients": [{"name": "bare"}, 42, {"name": None, "display_name": 7,
                 "rollup": [], "domains": "none"},
                {"name": "half", "rollup": {"inboxes": 3, "ready": "two"},
                 "domains": [{"rollup": {"inboxes": 1e300}}, None, {"name": "d.test"}]}],
    "inboxes": [{"address": "only-address@missing.test"},
                {},
                "not an inbox",
                {"address": "wrong-types@missing.test", "client": 5, "domain": ["x"],
                 "verdict": 42, "score": "high", "cold_per_day": -3,
                 "reasons": [None, 3, "The one real reason.", {"a": 1}],
                 "ramp": {"step": "x", "days": None, "complete": "yes"},
                 "window": [1, 2], "history": [None, "day", 5,
                    {"day": 7, "planned": "ten", "sent": -4, "inbox": 1e300},
                    {"day": "2026-03-20", "planned": 12.6, "sent": 11, "inbox": 9,
                     "spam": 1, "other": None, "missing": True},
                    {}]},
                {"address": "long-history@missing.test", "client": "half",
                 "verdict": "at_risk", "score": 101.4, "cold_per_day": 0,
                 "reasons": "not a list", "window": {"inbox_share": 1.5, "measured": 3},
                 "history": long_hist},
                {"address": "odd-verdict@missing.test", "verdict": "sleeping",
                 "history": [{"day": "2026-03-21"}]}]}
save("missing.json", missing)
