"""The studio: its requests without a browser, its server, and the page in a real headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import TINY_CLIP_SPEC, export_tiny_generator

from reelgan.cli.main import main
from reelgan.errors import ReelganError
from reelgan.studio import Studio, make_server, serve_in_thread, url_of

SCREENPLAY = "INT. SHIP - NIGHT\n\nA linguist stands before the glass.\n\nLOUISE\nWe come in peace.\n"


@pytest.fixture
def runs(tmp_path) -> Path:
    """A runs folder with one tiny exported generator, 00001-tiny."""
    export_tiny_generator(tmp_path / "runs" / "00001-tiny")
    return tmp_path / "runs"


def wait_for(condition, timeout: float = 120.0, every: float = 0.25):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"gave up waiting after {timeout} s")


# ---- requests, without HTTP

def test_studio_only_opens_run_folders_inside_its_runs_folder(runs):
    studio = Studio(runs)
    assert studio.run_dir("00001-tiny") == runs / "00001-tiny"
    for name in ("../runs/00001-tiny", "/etc", "..", "00002-missing", 7):
        with pytest.raises(ReelganError, match="no run named"):
            studio.run_dir(name)
    with pytest.raises(ReelganError, match="no file"):
        studio.run_file("00001-tiny", "../../outside.txt")
    assert studio.run_file("00001-tiny", "generator.json").name == "generator.json"


def test_exploring_through_the_studio_records_what_was_shown(runs):
    studio = Studio(runs)
    grid = studio.explore("grid", {"run": "00001-tiny", "n": 6})["samples"]
    assert [s["id"] for s in grid] == list(range(6)) and grid[0]["src"].startswith("data:image/png;base64,")
    studio.explore("rate", {"run": "00001-tiny", "id": 2, "liked": True})
    studio.explore("rate", {"run": "00001-tiny", "id": 3, "liked": False})
    assert len(studio.explore("suggest", {"run": "00001-tiny", "n": 4})["samples"]) == 4
    assert len(studio.explore("children", {"run": "00001-tiny", "of": 2, "n": 3})["samples"]) == 3
    assert len(studio.explore("crossover", {"run": "00001-tiny", "of": [2, 4], "n": 3})["samples"]) == 3
    directions = studio.explore("directions", {"run": "00001-tiny", "count": 3})
    assert directions["count"] == 3
    before = len(studio.explorer({"run": "00001-tiny"}).lineage.entries)
    still = studio.explore("move", {"run": "00001-tiny", "of": 2, "amounts": [0, 0, 0]})["src"]
    moved = studio.explore("move", {"run": "00001-tiny", "of": 2, "amounts": [3, 0, 0]})["src"]
    assert still != moved
    assert len(studio.explorer({"run": "00001-tiny"}).lineage.entries) == before  # a preview is not recorded
    kept = studio.explore("keep", {"run": "00001-tiny", "of": 2, "amounts": [3, 0, 0]})["samples"]
    assert kept[0]["parents"] == [2]
    studio.explore("rate", {"run": "00001-tiny", "id": kept[0]["id"], "liked": True})
    exported = studio.explore("export", {"run": "00001-tiny"})
    assert sorted(Path(f).suffix for f in exported["files"]) == [".png", ".png", ".svg", ".svg"]
    assert "morph" in exported
    lineage = json.loads((runs / "00001-tiny" / "explore" / "lineage.json").read_text())
    assert [e["op"] for e in lineage["entries"]].count("direction") == 1
    assert (runs / "00001-tiny" / "explore" / "picks.mp4").stat().st_size > 0


def test_studio_refuses_bad_requests_in_one_line(runs):
    studio = Studio(runs)
    for action, params, expect in [
        ("grid", {"run": "00001-tiny", "n": 0}, "n must be"),
        ("children", {"run": "00001-tiny", "of": 99}, "no sample 99"),
        ("crossover", {"run": "00001-tiny", "of": [1]}, "two or more"),
        ("move", {"run": "00001-tiny", "of": 0, "amounts": ["far"]}, "amounts"),
        ("export", {"run": "00001-tiny"}, "nothing is liked"),
        ("bogus", {"run": "00001-tiny"}, "unknown exploration step"),
    ]:
        if action != "grid":
            studio.explore("grid", {"run": "00001-tiny", "n": 2})
        with pytest.raises(ReelganError, match=expect):
            studio.explore(action, params)
    with pytest.raises(ReelganError, match="does not exist"):
        studio.train({"data": str(runs / "no-such-folder")})
    with pytest.raises(ReelganError, match="resolution"):
        studio.train({"data": "logograms", "resolution": 48})
    with pytest.raises(ReelganError, match="Fountain"):
        studio.film({"script": "  "})
    with pytest.raises(ReelganError, match="phrase|word"):
        studio.glyph({"phrase": ""})


def test_a_training_job_on_a_folder_without_images_fails_with_the_trainers_message(runs, tmp_path):
    (tmp_path / "empty").mkdir()
    studio = Studio(runs)
    job = studio.train({"data": str(tmp_path / "empty"), "minutes": 0.1})
    wait_for(lambda: studio.jobs.get(job["id"]).status not in ("starting", "running"), timeout=60)
    described = studio.jobs.get(job["id"]).describe()
    assert described["status"] == "failed"
    assert described["error"].startswith("error:") and "image" in described["error"]
    assert sorted(p.name for p in runs.iterdir()) == ["00001-tiny"]  # no run folder was left behind


# ---- the server

def post(url: str, data) -> tuple[int, dict]:
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_server_answers_json_and_errors_as_one_line(runs):
    server = make_server(Studio(runs), "127.0.0.1", 0)
    serve_in_thread(server)
    url = url_of(server)
    try:
        status, data = post(url + "api/runs", {})
        assert status == 200 and data["runs"][0]["name"] == "00001-tiny"
        assert post(url + "api/explore/grid", {"run": "../etc"}) == (400, {"error": f"no run named '../etc' in "
                                                                                     f"{runs.resolve()}"})
        assert post(url + "api/explore/grid", b"{not json")[0] == 400
        assert post(url + "api/nothing", {})[0] == 404
        with urllib.request.urlopen(url, timeout=10) as page:
            assert b"reelgan studio" in page.read()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "files/00001-tiny/%2e%2e/%2e%2e/secret.txt", timeout=10)
        assert refused.value.code == 404
    finally:
        server.shutdown()
        server.server_close()


def test_a_port_in_use_is_named_with_the_fix(runs):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ReelganError, match=f"port {port} .* in use; choose another with --port"):
            make_server(Studio(runs), "127.0.0.1", port)


def test_the_studio_stays_on_this_machine_unless_told(runs, capsys):
    assert main(["studio", "--runs", str(runs), "--host", "0.0.0.0"]) == 2
    assert "--public" in capsys.readouterr().err


# ---- the page in a real browser

def browser():
    """A headless Chromium through Selenium, or skip with the reason."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install selenium)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("no Chromium and chromedriver here (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.binary_location = chromium
    return webdriver.Chrome(service=Service(driver), options=options)


@pytest.fixture
def page(runs):
    driver = browser()
    studio = Studio(runs)
    server = make_server(studio, "127.0.0.1", 0)
    serve_in_thread(server)
    driver.get(url_of(server))
    yield driver, studio
    driver.quit()
    server.shutdown()
    server.server_close()
    studio.jobs.stop_all()


def shoot(driver, name: str) -> None:
    """Screenshots for the docs, when REELGAN_SCREENSHOTS names a folder."""
    folder = os.environ.get("REELGAN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))


def test_the_page_explores_picks_steers_and_exports(page, runs):
    from selenium.webdriver.common.by import By

    driver, studio = page
    find = driver.find_element
    wait_for(lambda: find(By.ID, "explore-run").get_attribute("value") == "00001-tiny", timeout=20)
    find(By.ID, "new-grid").click()
    cards = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#grid .sample"), timeout=30)
    assert len(cards) == 16
    for k in (1, 5):
        cards[k].find_element(By.CSS_SELECTOR, ".like").click()
        wait_for(lambda k=k: "liked" in cards[k].get_attribute("class"), timeout=10)
    cards[0].find_element(By.CSS_SELECTOR, ".dislike").click()
    wait_for(lambda: "disliked" in cards[0].get_attribute("class"), timeout=10)
    cards[5].find_element(By.TAG_NAME, "img").click()
    sliders = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "input.direction"), timeout=20)
    first = wait_for(lambda: find(By.ID, "preview").get_attribute("src"), timeout=20)
    driver.execute_script("arguments[0].value = 4; arguments[0].dispatchEvent(new Event('input'));", sliders[0])
    wait_for(lambda: find(By.ID, "preview").get_attribute("src") != first, timeout=20)
    shoot(driver, "explore")
    find(By.ID, "suggest").click()
    wait_for(lambda: "suggest" in driver.find_elements(By.CSS_SELECTOR, "#grid .sample .caption")[0].text,
             timeout=30)
    find(By.ID, "export").click()
    wait_for(lambda: "picks exported" in find(By.ID, "export-links").text, timeout=30)
    lineage = json.loads((runs / "00001-tiny" / "explore" / "lineage.json").read_text())
    assert [e["id"] for e in lineage["entries"] if e["liked"]] == [1, 5]
    assert sum(e["op"] == "suggest" for e in lineage["entries"]) == 16
    assert sorted(p.name for p in (runs / "00001-tiny" / "explore" / "picks").iterdir()) == [
        "sample000001.png", "sample000001.svg", "sample000005.png", "sample000005.svg"]
    assert "error" not in (find(By.ID, "message").get_attribute("class") or "")  # no error was shown


def test_the_page_shows_glyphs_and_a_clear_message_for_bad_input(page):
    from selenium.webdriver.common.by import By

    driver, _ = page
    find = driver.find_element
    find(By.CSS_SELECTOR, ".tab[data-tab=glyphs]").click()
    wait_for(lambda: (find(By.ID, "glyph").get_attribute("src") or "").startswith("data:image/png"), timeout=20)
    find(By.ID, "make-sheet").click()
    wait_for(lambda: (find(By.ID, "sheet").get_attribute("src") or "").startswith("data:image/png"), timeout=20)
    shoot(driver, "glyphs")
    find(By.CSS_SELECTOR, ".tab[data-tab=train]").click()
    field = find(By.ID, "train-data")
    field.clear()
    field.send_keys("/no/such/folder")
    find(By.ID, "train-start").click()
    message = wait_for(lambda: find(By.ID, "message").text, timeout=20)
    assert "does not exist" in message and "Traceback" not in driver.page_source


def test_the_page_trains_stops_resumes_and_renders_a_film(page, runs, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver, studio = page
    find = driver.find_element
    find(By.CSS_SELECTOR, ".tab[data-tab=train]").click()
    Select(find(By.ID, "train-resolution")).select_by_visible_text("16")
    minutes = find(By.ID, "train-minutes")
    minutes.clear()
    minutes.send_keys("2")
    find(By.ID, "train-start").click()
    job = wait_for(lambda: studio.jobs.all() and studio.jobs.all()[0], timeout=10)
    wait_for(lambda: job.run_dir is not None and (job.run_dir / "stats.jsonl").is_file(), timeout=120)
    stop = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".job.running button.stop"), timeout=20)
    shoot(driver, "train")
    time.sleep(3)  # the page refreshes its jobs every 2.5 s: the button must be the same element after it
    stop[0].click()
    wait_for(lambda: job.status == "stopped", timeout=60)
    assert (job.run_dir / "checkpoints" / "latest.pt").is_file()  # the stop saved a checkpoint
    run = job.run_dir.name
    driver.find_element(By.CSS_SELECTOR, f".run-card[data-run='{run}']").click()
    wait_for(lambda: find(By.ID, "run-title").text == run, timeout=20)
    resume_minutes = find(By.ID, "resume-minutes")
    resume_minutes.clear()
    resume_minutes.send_keys("0.1")
    find(By.ID, "resume").click()
    resumed = wait_for(lambda: len(studio.jobs.all()) > 1 and studio.jobs.all()[0], timeout=10)
    wait_for(lambda: resumed.status in ("finished", "failed"), timeout=120)
    assert resumed.status == "finished", resumed.lines[-3:]

    find(By.CSS_SELECTOR, ".tab[data-tab=film]").click()
    script = find(By.ID, "script")
    script.clear()
    script.send_keys(SCREENPLAY)
    find(By.ID, "render").click()
    video = wait_for(lambda: (find(By.ID, "film-video").get_attribute("src") or "").endswith(".mp4"), timeout=240)
    assert video
    names = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#film-files a")]
    assert "film.mp4" in names and "film.srt" in names
    shoot(driver, "film")


def test_clip_generators_are_explored_by_their_middle_frame_and_exported_as_videos(runs):
    export_tiny_generator(runs / "00002-clip", **TINY_CLIP_SPEC)
    studio = Studio(runs)
    grid = studio.explore("grid", {"run": "00002-clip", "n": 3})["samples"]
    assert len(grid) == 3
    assert studio.explore("move", {"run": "00002-clip", "of": 0, "amounts": [2.0]})["src"].startswith("data:")
    studio.explore("rate", {"run": "00002-clip", "id": 1, "liked": True})
    exported = studio.explore("export", {"run": "00002-clip"})
    assert exported["files"] == ["/files/00002-clip/explore/picks/sample000001.mp4"]
    assert exported["grid"].endswith("picks-grid.mp4")


def test_a_broken_fountain_script_fails_its_film_job_with_the_renderers_message(runs):
    studio = Studio(runs)
    job = studio.film({"script": "Just some words.\n\nAnd more words, but no scene heading.\n"})
    wait_for(lambda: studio.jobs.get(job["id"]).status not in ("starting", "running"), timeout=60)
    described = studio.jobs.get(job["id"]).describe()
    assert described["status"] == "failed" and described["error"].startswith("error:")
    assert "scene" in described["error"]
