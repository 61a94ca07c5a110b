"""The long-story report, small: bench/long_report.py's 30 days of real text through a real pass,
the HTML report, and headless Chromium's screenshot and rendered page, checked for its size,
its sections, a chart by day and a screenshot that is not blank."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from matplotlib import image

ROOT = Path(__file__).resolve().parents[1]


def test_a_month_long_story_reports_in_under_a_megabyte_with_every_section(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "long_report.py"), "--days", "30", "--originals", "2",
                           "--copies", "1", "--off-topic", "1", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sections Chromium rendered: 7 of 7" in done.stdout, done.stdout
    page = (tmp_path / "report.html").read_text("utf-8")
    assert len(page.encode()) < 1_000_000
    assert page.count("<details") >= 30  # developments by day and articles by outlet, folded
    svg = page.split("<h2>Coverage over time</h2>")[1].split("</svg>")[0]
    ticks = re.findall(r">([A-Z][a-z]{2} \d{2})<", svg)
    assert "(by week)" not in svg and 4 <= len(ticks) <= 6  # 30 days: bars by day, a tick each Monday
    assert not re.search(r">\d{2}-\d{2} \d{2}<", svg)  # never an hour tick such as "12-01 00"
    shot = image.imread(tmp_path / "screenshot.png")
    assert shot.shape[1] == 1280 and float(np.std(shot[..., :3])) > 0.05  # drawn, not a blank page
