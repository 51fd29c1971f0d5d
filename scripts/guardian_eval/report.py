"""report.md, report.json and PNG plots from the output of `guardian eval` (metrics.json, results.jsonl).

Every number comes from the Rust engine's metrics.json; this module only arranges it, explains
each miss from the engine's window log and draws the plots.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

G = 9.80665
DT_NS = 20_000_000
TARGETS = {"sensitivity": 0.97, "false_alarms_per_hour": 0.5, "latency_median_s": 3.0, "latency_p95_s": 5.0}
# "none on standing or walking": MobiFall STD/WAL, SisFall D01/D02 (walking slowly / quickly)
STAND_WALK = {"mobifall": {"STD", "WAL"}, "sisfall": {"D01", "D02"}}
MODELS = ("full", "acc_only")
ACTIVITY_NAMES = {
    "FOL": "forward-lying",
    "FKL": "front-knees-lying",
    "BSC": "back-sitting-chair",
    "SDL": "sideward-lying",
    "STD": "standing (5 min)",
    "WAL": "walking (5 min)",
    "JOG": "jogging",
    "JUM": "jumping",
    "STU": "stairs up",
    "STN": "stairs down",
    "SCH": "sit chair",
    "CSI": "car step in",
    "CSO": "car step out",
    "D01": "walking slowly (100 s)",
    "D02": "walking quickly (100 s)",
    "D03": "jogging slowly (100 s)",
    "D04": "jogging quickly (100 s)",
    "D05": "stairs up/down slowly",
    "D06": "stairs up/down quickly",
    "D07": "sit half-height chair slowly",
    "D08": "sit half-height chair quickly",
    "D09": "sit low chair slowly",
    "D10": "sit low chair quickly",
    "D11": "collapse into a chair",
    "D12": "lie down slowly",
    "D13": "lie down quickly",
    "D14": "back to lateral lying",
    "D15": "bend at knees",
    "D16": "bend without knees",
    "D17": "get into / out of a car",
    "D18": "stumble while walking",
    "D19": "gentle jump",
    "F01": "forward, walking, slip",
    "F02": "backward, walking, slip",
    "F03": "lateral, walking, slip",
    "F04": "forward, walking, trip",
    "F05": "forward, jogging, trip",
    "F06": "vertical, walking, faint",
    "F07": "walking, hands on table, faint",
    "F08": "forward, getting up",
    "F09": "lateral, getting up",
    "F10": "forward, sitting down",
    "F11": "backward, sitting down",
    "F12": "lateral, sitting down",
    "F13": "forward, sitting, faint",
    "F14": "backward, sitting, faint",
    "F15": "lateral, sitting, faint",
}


def load_eval(d: Path) -> dict:
    d = Path(d)
    metrics = json.loads((d / "metrics.json").read_text())
    results = []
    with open(d / "results.jsonl", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                results.append(json.loads(line))
    return {"dir": str(d), "metrics": metrics, "results": results}


# ---------------------------------------------------------------- explaining misses


def band_times(end_t_ns: int, window: int, band) -> tuple[int, int]:
    """First and last frame time of the band of the window ending at end_t_ns."""
    return end_t_ns - (window - 1 - band[0]) * DT_NS, end_t_ns - (window - band[1]) * DT_NS


def explain_miss(r: dict, m: dict) -> dict:
    """Why a fall trial was not caught, from the engine's window log and events."""
    impact = int(r["impact_t_ns"])
    window, band = m["window_frames"], m["band"]
    thr = m["thresholds"][r["model"]]
    trig = m["trigger_g"]
    wins = r["windows"]
    idx = [i for i, w in enumerate(wins) if band_times(w[0], window, band)[0] <= impact <= band_times(w[0], window, band)[1]]
    alarms = [e for e in r["events"] if e["kind"] == "fall"]
    out = {"file": r["file"], "activity": r["activity"], "model": r["model"]}
    if not idx:
        out.update(reason="no window holds the impact in its band (impact too close to the recording's start or end)", code="edge")
        return out
    peak = max(wins[i][1] for i in idx)
    scores = [wins[i][2] for i in idx if wins[i][2] is not None]
    before = wins[idx[0] - 1][3] if idx[0] > 0 else "idle"
    out.update(band_peak_g=round(peak, 3), max_score=None if not scores else round(max(scores), 3))
    if before in ("alerting", "cooldown"):
        first = alarms[0] if alarms else None
        dt = None if first is None else (first["impact_t_ns"] - impact) / 1e9
        out.update(reason=f"an earlier alarm ({dt:+.1f} s from the impact) held the detector in {before}" if dt is not None else f"detector in {before}", code="blocked")
    elif before == "confirming" and not any(wins[i][2] is not None for i in idx):
        out.update(reason="the detector was confirming an earlier candidate while the impact passed", code="busy")
    elif peak < trig:
        out.update(reason=f"impact trigger not reached: band peak {peak:.2f} g < trigger {trig:.2f} g", code="trigger")
    elif not scores or max(scores) < thr:
        s = "model not run" if not scores else f"max score {max(scores):.3f}"
        out.update(reason=f"model did not confirm: {s} < threshold {thr:.3f}", code="model")
    elif alarms:
        dt = min((a["impact_t_ns"] - impact) / 1e9 for a in alarms)
        out.update(reason=f"alarm raised with an impact {dt:+.2f} s from the labelled one (tolerance 1.5 s)", code="time")
    else:
        out.update(reason="model confirmed (score >= threshold) but the post-impact check rejected it (not still, orientation unchanged)", code="post_check")
    near = [a for a in alarms if abs(a["impact_t_ns"] - impact) <= 5_000_000_000]
    if near and out["code"] != "time":
        a = near[0]
        out["reason"] += (
            f"; the fall was alarmed at another peak {(a['impact_t_ns'] - impact) / 1e9:+.2f} s from the labelled impact"
            f" ({a.get('peak_g', float('nan')):.2f} g vs the label's largest peak), outside the 1.5 s tolerance,"
            f" alert {(a['confirmed_t_ns'] - impact) / 1e9:.1f} s after the labelled impact"
        )
        out["alarm_near"] = True
    return out


def poisson_upper(k: int, conf: float = 0.95) -> float:
    """Exact one-sided upper confidence bound of a Poisson mean after observing k events."""
    def cdf(lam: float) -> float:
        term = total = math.exp(-lam)
        for i in range(1, k + 1):
            term *= lam / i
            total += term
        return total

    lo, hi = float(k), float(k) + 10.0 * (1 + math.sqrt(k + 1))
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) > 1 - conf else (lo, mid)
    return (lo + hi) / 2


# ---------------------------------------------------------------- tables


def pct(x, n=None, d=None) -> str:
    if x is None:
        return "-"
    s = f"{100 * x:.1f}%"
    return f"{s} ({n}/{d})" if n is not None else s


def num(x, fmt="{:.2f}") -> str:
    return "-" if x is None else fmt.format(x)


def group_row(name: str, g: dict) -> list[str]:
    a, lg, lat = g["adl"], g["adl_long"], g["latency"]
    return [
        name,
        pct(g["sensitivity"], g["falls_caught"], g["fall_trials"]),
        f"{num(a['false_alarms_per_hour'])} ({a['false_alarms']} in {a['hours']:.2f} h; 95% upper {poisson_upper(a['false_alarms']) / a['hours']:.1f})" if a["hours"] else "-",
        f"{num(lg['false_alarms_per_hour'])} ({lg['false_alarms']} in {lg['hours']:.2f} h)" if lg["trials"] else "-",
        pct(a["specificity"], a["trials"] - a["trials_with_alarm"], a["trials"]),
        num(lat["median_s"]),
        num(lat["p95_s"]),
        str(g["false_alarms_in_fall_trials"]),
    ]


def per_type_table(models: dict, dataset: str, key: str, header: list, cell) -> str:
    """One row per activity type of `key` ("per_fall_type" / "per_adl_type") in `dataset`, one
    column per model: `cell(stats)`, or "-" where the model has no trial of that type."""
    types = sorted({t for am in models.values() for t in am["groups"][dataset][key]})
    rows = []
    for t in types:
        cells = [t, ACTIVITY_NAMES.get(t, "")]
        for am in models.values():
            x = am["groups"][dataset][key].get(t)
            cells.append("-" if not x else cell(x))
        rows.append(cells)
    return md_table(header, rows)


def md_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def targets(g: dict, dataset: str, results: list[dict], model: str) -> list[dict]:
    """The issue's targets checked on one dataset group of one model."""
    a, lat = g["adl"], g["latency"]
    missed = [f for t in g["per_fall_type"].values() for f in t["missed"]]
    sw = STAND_WALK.get(dataset, set())
    sw_alarms = [r["file"] for r in results if r["model"] == model and r["dataset"] == dataset and r["activity"] in sw and r["false_alarms"]]
    slow = [
        (r["file"], r["latency_s"]) for r in results if r["model"] == model and r["dataset"] == dataset and r["latency_s"] is not None and r["latency_s"] > 5.0
    ]
    rows = [
        ("event sensitivity >= 97%", g["sensitivity"], g["sensitivity"] is not None and g["sensitivity"] >= TARGETS["sensitivity"], missed),
        (
            "<= 0.5 false alarms per ADL hour",
            a["false_alarms_per_hour"],
            a["false_alarms_per_hour"] is not None and a["false_alarms_per_hour"] <= TARGETS["false_alarms_per_hour"],
            a["alarm_files"],
        ),
        ("no false alarm on standing / walking", len(sw_alarms), not sw_alarms, sw_alarms),
        ("latency median <= 3 s", lat["median_s"], lat["median_s"] is not None and lat["median_s"] <= 3.0, []),
        ("latency p95 <= 5 s", lat["p95_s"], lat["p95_s"] is not None and lat["p95_s"] <= 5.0, [f for f, _ in slow]),
    ]
    return [{"target": t, "value": v, "met": ok, "recordings": recs} for t, v, ok, recs in rows]


# ---------------------------------------------------------------- plots


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 8, "axes.titlesize": 9})
    return plt


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    import matplotlib.pyplot as plt

    plt.close(fig)


def plot_activity_bars(models: dict, dataset: str, path: Path) -> None:
    """Sensitivity per fall type and specificity per ADL type, one bar per model."""
    plt = _plt()
    groups = {k: v["groups"].get(dataset) for k, v in models.items() if v["groups"].get(dataset)}
    if not groups:
        return
    fall_types = sorted({t for g in groups.values() for t in g["per_fall_type"]})
    adl_types = sorted({t for g in groups.values() for t in g["per_adl_type"]})
    fig, axes = plt.subplots(1, 2, figsize=(10, 2.8), gridspec_kw={"width_ratios": [max(len(fall_types), 2), max(len(adl_types), 2)]})
    w = 0.8 / max(len(groups), 1)
    for ax, types, key, val, title in (
        (axes[0], fall_types, "per_fall_type", "sensitivity", "event sensitivity per fall type"),
        (axes[1], adl_types, "per_adl_type", "specificity", "ADL trials without alarm"),
    ):
        for j, (name, g) in enumerate(groups.items()):
            ys = [(g[key].get(t) or {}).get(val) for t in types]
            ax.bar(np.arange(len(types)) + j * w - 0.4 + w / 2, [np.nan if y is None else 100 * y for y in ys], w, label=name)
        ax.set_xticks(np.arange(len(types)))
        ax.set_xticklabels(types, rotation=90 if len(types) > 10 else 0)
        ax.set_ylim(0, 105)
        ax.set_ylabel("%")
        ax.set_title(f"{dataset}: {title}")
        if val == "sensitivity":
            ax.axhline(97, color="k", lw=0.6, ls="--")
    axes[0].legend(loc="lower left", fontsize=7)
    _save(fig, path)


def plot_latency(models: dict, path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 2.4))
    vals = {k: v["groups"]["overall"]["latency"]["values_s"] for k, v in models.items()}
    allv = [x for v in vals.values() for x in v]
    if not allv:
        plt.close(fig)
        return
    bins = np.arange(math.floor(min(allv) * 10) / 10 - 0.05, max(max(allv), 5.0) + 0.15, 0.1)
    for k, v in vals.items():
        ax.hist(v, bins=bins, alpha=0.6, label=f"{k} (n={len(v)})")
    for x, ls in ((3.0, "--"), (5.0, ":")):
        ax.axvline(x, color="k", lw=0.7, ls=ls)
    ax.set_xlabel("alert latency after the labelled impact, s (targets: median 3 s, p95 5 s)")
    ax.set_ylabel("falls")
    ax.legend(fontsize=7)
    _save(fig, path)


def read_acc_magnitude(path: str) -> tuple[np.ndarray, np.ndarray]:
    t, a = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.split(",")
            if len(p) == 5 and p[1] == "acc":
                t.append(int(p[0]))
                a.append((float(p[2]), float(p[3]), float(p[4])))
    t = np.asarray(t, np.int64)
    a = np.asarray(a, np.float64).reshape(-1, 3)
    return t, np.sqrt((a * a).sum(axis=1)) / G


PHASE_COLORS = {"confirming": "#ffd27f", "alerting": "#ff9a9a", "cooldown": "#c8c8ff"}


def plot_timeline(r: dict, m: dict, focus_ns: int, title: str, path: Path, span_s: float = 12.0) -> None:
    """|a|, model scores and detector phase around `focus_ns`."""
    plt = _plt()
    t, mag = read_acc_magnitude(r["path"])
    t0 = int(t.min()) if t.size else 0
    lo, hi = focus_ns - span_s / 2 * 1e9, focus_ns + span_s / 2 * 1e9
    sel = (t >= lo) & (t <= hi)
    fig, ax = plt.subplots(figsize=(8, 2.5))
    ax.plot((t[sel] - t0) / 1e9, mag[sel], lw=0.7, color="k", label="|a| (g)")
    ax.axhline(m["trigger_g"], color="gray", lw=0.6, ls=":", label=f"trigger {m['trigger_g']} g")
    window, band = m["window_frames"], m["band"]
    ax2 = ax.twinx()
    sx, sy = [], []
    for end, _, score, phase in r["windows"]:
        b0, b1 = band_times(end, window, band)
        if end < lo - 2e9 or b0 > hi:
            continue
        if phase in PHASE_COLORS:
            ax.axvspan((end - 0.5e9 - t0) / 1e9, (end - t0) / 1e9, color=PHASE_COLORS[phase], alpha=0.5, lw=0)
        if score is not None:
            sx.append(((b0 + b1) / 2 - t0) / 1e9)
            sy.append(score)
    ax2.plot(sx, sy, "o", color="tab:blue", ms=4, label="model score (band centre)")
    ax2.axhline(m["thresholds"][r["model"]], color="tab:blue", lw=0.6, ls="--")
    ax2.set_ylim(-0.02, 1.02)
    ax2.set_ylabel("score", color="tab:blue")
    if r.get("impact_t_ns") is not None:
        ax.axvline((int(r["impact_t_ns"]) - t0) / 1e9, color="green", lw=1.2, label="labelled impact")
    for e in r["events"]:
        if e["kind"] == "fall":
            ax.axvline((e["impact_t_ns"] - t0) / 1e9, color="red", lw=1, ls="--", label="alarm impact")
            ax.axvline((e["confirmed_t_ns"] - t0) / 1e9, color="red", lw=1, ls=":", label="alert raised")
    ax.set_xlim((lo - t0) / 1e9, (hi - t0) / 1e9)
    ax.set_xlabel("s from recording start (shading: confirming / alerting / cooldown)")
    ax.set_ylabel("|a|, g")
    ax.set_title(title)
    h, lab = ax.get_legend_handles_labels()
    seen = {}
    for hh, ll in zip(h, lab):
        seen.setdefault(ll, hh)
    ax.legend(seen.values(), seen.keys(), fontsize=6, loc="upper right", ncol=3)
    _save(fig, path)


# ---------------------------------------------------------------- the report


def analyse(ev: dict) -> dict:
    """Per model: groups, targets per dataset, misses with reasons, false alarms."""
    m = ev["metrics"]
    out = {"dir": ev["dir"], "model_origin": m["model_origin"], "labels": m["labels"], "card_split": m.get("card_split"), "models": {}}
    for model, mm in m["models"].items():
        res = [r for r in ev["results"] if r["model"] == model]
        misses = [explain_miss(r, m) for r in res if r["is_fall"] and not r["caught"]]
        fas = []
        for r in res:
            for a in r["false_alarms"]:
                fas.append(
                    {
                        "file": r["file"],
                        "activity": r["activity"],
                        "in_fall_trial": r["is_fall"],
                        "at_s": round((a["impact_t_ns"] - (r["windows"][0][0] - (m["window_frames"] - 1) * DT_NS if r["windows"] else 0)) / 1e9, 2),
                        "score": round(a["score"], 3),
                        "peak_g": round(a["peak_g"], 2),
                        "impact_t_ns": a["impact_t_ns"],
                    }
                )
        datasets = [g for g in mm["groups"] if g != "overall" and not g.endswith("_elderly")]
        out["models"][model] = {
            "groups": mm["groups"],
            "targets": {d: targets(mm["groups"][d], d, res, model) for d in datasets},
            "misses": misses,
            "false_alarms": fas,
            "unreadable": mm["unreadable"],
        }
    return out


def _label(ev: dict, i: int, n: int) -> str:
    return "" if n == 1 else f" - {Path(ev['dir']).name or ev['dir']}"


def ordered_groups(groups: dict) -> list[str]:
    """overall, then datasets, then their elderly groups."""
    rest = sorted(g for g in groups if g != "overall")
    return (["overall"] if "overall" in groups else []) + [g for g in rest if not g.endswith("_elderly")] + [g for g in rest if g.endswith("_elderly")]


def _img(img_prefix: str, png: str) -> str:
    return f"{img_prefix + '/' if img_prefix else ''}{png}"


def md_evaluation_header(m: dict, suffix: str) -> list[str]:
    """Which models, labels and detector settings one evaluation ran with."""
    md = [f"## Models: {m['model_origin']}{suffix}", ""]
    md += [f"Labels: {', '.join('`' + Path(p).parent.name + '`' for p in m['labels'])}; evaluated in {m['wall_s']:.1f} s by `guardian eval`."]
    if m.get("card_split"):
        md += [f"Card split (the models never saw `test`): test = {', '.join(m['card_split'].get('test', []))}; val = {', '.join(m['card_split'].get('val', []))}."]
    md += [
        f"Detector: trigger {m['trigger_g']} g, thresholds "
        + ", ".join(f"{k} {v:.3f}" for k, v in m["thresholds"].items())
        + f", post-impact check {m['config']['post_impact_delay_ms']}+{m['config']['post_impact_len_ms']} ms; match tolerance {m['match_tolerance_s']} s.",
        "",
    ]
    return md


def md_groups_and_targets(a: dict) -> list[str]:
    """Per model the group table, then the targets of every model and dataset."""
    md = []
    header = ["group", "sensitivity", "false alarms / ADL h", "on long ADL / h", "ADL specificity", "latency median s", "p95 s", "alarms in fall trials"]
    for model, am in a["models"].items():
        md += [f"### {model} model", "", md_table(header, [group_row(g, am["groups"][g]) for g in ordered_groups(am["groups"])]), ""]
        if not any(g.endswith("_elderly") for g in am["groups"]):
            md += ["(No elderly subject among these recordings.)", ""]
    md += ["### Targets (within-dataset; the issue sets them for the full model)", ""]
    rows = []
    for model, am in a["models"].items():
        for d, ts in am["targets"].items():
            for t in ts:
                recs = t["recordings"]
                v = t["value"]
                vs = "-" if v is None else (pct(v) if "sensitivity" in t["target"] else f"{v:.2f}" if isinstance(v, float) else str(v))
                rows.append([model, d, t["target"], vs, "yes" if t["met"] else "**no**", ", ".join(Path(r).stem for r in recs[:12]) + (" ..." if len(recs) > 12 else "")])
    md += [md_table(["model", "dataset", "target", "value", "met", "recordings that miss it"], rows), ""]
    return md


def md_activities_and_latency(a: dict, m: dict, tag: str, img_dir: Path, img_prefix: str) -> list[str]:
    """Per dataset the per-activity bars and tables, then the latency histogram."""
    md = []
    datasets = sorted({d for am in a["models"].values() for d in am["targets"]})
    for d in datasets:
        png = f"{tag}activities_{d}.png"
        plot_activity_bars(m["models"], d, img_dir / png)
        md += [f"### {d}: per activity", "", f"![per-activity {d}]({_img(img_prefix, png)})", ""]
        md += [per_type_table(a["models"], d, "per_fall_type", ["fall", "what", *[f"caught ({k})" for k in a["models"]]],
                              lambda x: f"{x['caught']}/{x['trials']}"), ""]
        md += [per_type_table(a["models"], d, "per_adl_type", ["ADL", "what", *a["models"].keys()],
                              lambda x: f"{x['trials'] - x['trials_with_alarm']}/{x['trials']} clean, "
                              f"{x['false_alarms']} alarms in {x['hours'] * 60:.1f} min"), ""]
    png = f"{tag}latency.png"
    plot_latency(m["models"], img_dir / png)
    md += ["### Alert latency", "", f"![latency]({_img(img_prefix, png)})", ""]
    return md


def md_misses_and_false_alarms(model: str, am: dict) -> list[str]:
    """The tables of one model's missed falls (with why) and false alarms."""
    md = [f"### Misses ({model})", ""]
    if not am["misses"]:
        md += ["None.", ""]
    else:
        md += [
            md_table(
                ["recording", "fall", "band peak g", "max score", "why"],
                [[Path(x["file"]).stem, x["activity"], num(x.get("band_peak_g")), num(x.get("max_score"), "{:.3f}"), x["reason"]] for x in am["misses"]],
            ),
            "",
        ]
    md += [f"### False alarms ({model})", ""]
    if not am["false_alarms"]:
        md += ["None.", ""]
    else:
        md += [
            md_table(
                ["recording", "activity", "in a fall trial", "impact at s", "score", "peak g"],
                [[Path(x["file"]).stem, x["activity"], "yes" if x["in_fall_trial"] else "", f"{x['at_s']:.1f}", f"{x['score']:.3f}", f"{x['peak_g']:.2f}"] for x in am["false_alarms"]],
            ),
            "",
        ]
    return md


def draw_timelines(model: str, am: dict, results: dict, m: dict, tag: str, img_dir: Path, budget: int) -> tuple[list[str], list[str]]:
    """Timelines of one model's misses, then its false alarms, at most `budget` of them; returns
    the PNG names drawn and the items left undrawn (over the budget or recording absent)."""
    items = [(x, int(results[(model, x["file"])]["impact_t_ns"]), "MISS") for x in am["misses"]]
    items += [(x, x["impact_t_ns"], "FALSE ALARM") for x in am["false_alarms"]]
    imgs, not_drawn = [], []
    for x, focus, kind in items:
        r = results[(model, x["file"])]
        if len(imgs) >= budget or not Path(r["path"]).exists():
            not_drawn.append(f"{model} {kind.lower()} {Path(x['file']).stem}")
            continue
        png = f"{tag}timeline_{model}_{kind.split()[0].lower()}_{Path(x['file']).stem}_{len(imgs)}.png"
        why = x.get("reason", f"score {x.get('score')}, peak {x.get('peak_g')} g")
        plot_timeline(r, m, focus, f"{model}: {kind} {Path(x['file']).stem} ({r['activity']}): {why}"[:140], img_dir / png)
        imgs.append(png)
    return imgs, not_drawn


def md_unreadable(a: dict) -> list[str]:
    unread = a["models"][next(iter(a["models"]))]["unreadable"] if a["models"] else []
    md = ["### Unreadable recordings", ""]
    md += [md_table(["file", "stage", "error"], [[u["file"], u["stage"], u["error"]] for u in unread]) if unread else "None.", ""]
    return md


def report(
    eval_dirs: list[Path],
    out: Path,
    title: str = "Guardian event-level evaluation",
    max_timelines: int = 40,
    img_prefix: str = "",
    intro: str = "",
    md_name: str = "report.md",
    json_name: str | None = "report.json",
) -> dict:
    """Writes report.md, report.json and plots into `out`; returns the report dict."""
    out = Path(out)
    img_dir = out / img_prefix if img_prefix else out
    img_dir.mkdir(parents=True, exist_ok=True)
    evs = [load_eval(d) for d in eval_dirs]
    md = [f"# {title}", ""]
    if intro:
        md += [intro, ""]
    rep = {"evaluations": []}
    n_timelines = 0
    not_drawn = []
    for i, ev in enumerate(evs):
        a = analyse(ev)
        rep["evaluations"].append(a)
        m = ev["metrics"]
        tag = f"e{i}_" if len(evs) > 1 else ""
        md += md_evaluation_header(m, _label(ev, i, len(evs)))
        md += md_groups_and_targets(a)
        md += md_activities_and_latency(a, m, tag, img_dir, img_prefix)
        results = {(r["model"], r["file"]): r for r in ev["results"]}
        for model, am in a["models"].items():
            md += md_misses_and_false_alarms(model, am)
            imgs, undrawn = draw_timelines(model, am, results, m, tag, img_dir, max_timelines - n_timelines)
            n_timelines += len(imgs)
            not_drawn += undrawn
            if imgs:
                md += [f"Timelines ({model}): |a|, trigger, model scores (blue, threshold dashed), detector phase (shading), labelled impact (green), alarms (red).", ""]
                md += [f"![{p}]({_img(img_prefix, p)})" for p in imgs] + [""]
        md += md_unreadable(a)
    if not_drawn:
        md += [f"Timelines not drawn (cap {max_timelines}): " + ", ".join(not_drawn), ""]
    rep["timelines_not_drawn"] = not_drawn
    (out / md_name).write_text("\n".join(md) + "\n", encoding="utf-8")
    if json_name:
        (out / json_name).write_text(json.dumps(rep, indent=1, default=float) + "\n", encoding="utf-8")
    print(f"wrote {out / md_name} and {n_timelines} timelines")
    return rep
