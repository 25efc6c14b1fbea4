"""POST /v1/spell and `signlens spell`: the same word from the same images, and every kind of bad
input refused with a reason (4xx / a clear CLI error), never a 5xx."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from signlens import labels
from signlens.cli.main import main
from signlens.serving.app import create_app
from signlens.serving.settings import ServeSettings
from signlens.serving.routes.spell import SpellResponse
from tests.synthetic import letter_image

WORD = "WATER"
MAX_LETTERS = 8


def png(letter: str, seed: int) -> bytes:
    """A synthetic letter image, 4× up-scaled (the tiny model reads these right)."""
    pixels = letter_image(labels.index_of_letter(letter), np.random.default_rng(seed))
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def client(tiny_artifact: Path) -> TestClient:
    settings = ServeSettings(models=(("tiny", str(tiny_artifact)),), max_spell_letters=MAX_LETTERS,
                             prediction_log=None, teach_dir=None)
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def word_images() -> list[bytes]:
    return [png(c, seed=i) for i, c in enumerate(WORD)]


def assert_error(resp, status: int, error: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.json()["error"] == error and resp.json()["detail"]


def test_multipart_and_base64_images_spell_the_word(client: TestClient, word_images: list[bytes]) -> None:
    files = [("images", (f"{i}.png", data, "image/png")) for i, data in enumerate(word_images)]
    by_upload = client.post("/v1/spell", files=files)
    assert by_upload.status_code == 200, by_upload.text
    body = SpellResponse.model_validate(by_upload.json())
    assert body.text == WORD and "".join(r.letter for r in body.letters) == WORD
    assert body.candidates[0].text == WORD and body.model == "tiny"
    by_json = client.post("/v1/spell", json={"images": [base64.b64encode(d).decode() for d in word_images]}).json()
    assert by_json["candidates"] == by_upload.json()["candidates"]


def test_probability_vectors_and_request_words(client: TestClient) -> None:
    rows = np.full((5, labels.N_CLASSES), 0.1 / 23)
    for i, c in enumerate("ADWOA"):
        rows[i, labels.LETTERS.index(c)] = 0.9
    rows[2] = 0.01
    rows[2, labels.LETTERS.index("W")], rows[2, labels.LETTERS.index("V")] = 0.4, 0.37
    plain = client.post("/v1/spell", json={"probabilities": rows.tolist()}).json()
    mine = client.post("/v1/spell", json={"probabilities": rows.tolist(), "words": ["Adwoa"]}).json()
    assert plain["model"] is None and [r["letter"] for r in plain["letters"]] == list("ADWOA")
    assert (mine["text"], mine["candidates"][0]["source"]) == ("ADWOA", "user")


def test_the_api_and_the_cli_agree_on_the_same_images(client: TestClient, word_images: list[bytes],
                                                      tiny_artifact: Path, tmp_path: Path, capsys) -> None:
    paths = []
    for i, data in enumerate(word_images):
        paths.append(tmp_path / f"{i}.png")
        paths[-1].write_bytes(data)
    assert main(["spell", "--model", str(tiny_artifact), "--json", *map(str, paths)]) == 0
    by_cli = json.loads(capsys.readouterr().out)
    files = [("images", (p.name, p.read_bytes(), "image/png")) for p in paths]
    by_api = client.post("/v1/spell", files=files).json()
    assert by_cli["text"] == by_api["text"] == WORD
    assert [c["text"] for c in by_cli["candidates"]] == [c["text"] for c in by_api["candidates"]]
    assert [c["score"] for c in by_cli["candidates"]] == pytest.approx([c["score"] for c in by_api["candidates"]], abs=1e-4)
    assert main(["spell", "--model", str(tiny_artifact), *map(str, paths)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == WORD and printed[1].startswith(f"letters: {WORD}") and f"1. {WORD}" in printed[2]


def test_bad_requests_get_a_4xx_with_a_reason(client: TestClient, word_images: list[bytes]) -> None:
    image = ("images", ("a.png", word_images[0], "image/png"))
    assert_error(client.post("/v1/spell", files={"other": ("a.png", b"x", "image/png")}), 422, "missing_file")
    assert_error(client.post("/v1/spell", json={"images": []}), 422, "no_letters")
    assert_error(client.post("/v1/spell", files=[image, ("images", ("b.png", b"not an image", "image/png"))]),
                 422, "bad_image")
    assert_error(client.post("/v1/spell", files=[image] * (MAX_LETTERS + 1)), 413, "too_many_letters")
    assert_error(client.post("/v1/spell", json={"images": ["%%%"]}), 422, "bad_base64")
    assert_error(client.post("/v1/spell", json={"probabilities": [[0.5] * 3]}), 422, "bad_probabilities")
    assert_error(client.post("/v1/spell", json={"probabilities": [[1e308] * 24]}), 422, "bad_probabilities")
    assert_error(client.post("/v1/spell", json={"probabilities": [[0.0] * 24]}), 422, "bad_probabilities")
    assert_error(client.post("/v1/spell", json={"probabilities": [[1.0] * 24], "images": ["x"]}), 422, "bad_json")
    assert_error(client.post("/v1/spell", json={"probabilities": [[1.0] * 24], "words": ["JANE"]}), 422, "bad_word")
    assert_error(client.post("/v1/spell", content=b"x", headers={"content-type": "image/png"}), 415,
                 "unsupported_media_type")
    assert_error(client.post("/v1/spell", content=b"", headers={"content-type": "application/json"}), 400, "empty_body")
    assert_error(client.post("/v1/spell?model=nope", files=[image]), 404, "unknown_model")


def test_spell_is_documented_in_openapi(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    post = spec["paths"]["/v1/spell"]["post"]
    assert {"multipart/form-data", "application/json"} <= set(post["requestBody"]["content"])
    assert "SpellResponse" in json.dumps(post["responses"]["200"])


def test_cli_errors_are_clear(tmp_path: Path, tiny_artifact: Path, capsys) -> None:
    bad = tmp_path / "b.png"
    bad.write_bytes(b"not an image")
    assert main(["spell", "--model", str(tiny_artifact), str(bad)]) == 2
    assert "b.png: cannot decode image" in capsys.readouterr().err
    assert main(["spell", str(tmp_path / "missing.png")]) == 2
    assert "missing.png: no such file" in capsys.readouterr().err
    words = tmp_path / "w.txt"
    words.write_text("ZOE\n")
    good = tmp_path / "a.png"
    good.write_bytes(png("A", 0))
    assert main(["spell", "--words", str(words), str(good)]) == 2
    assert "w.txt, line 1: 'ZOE' holds Z" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: IMAGE... is required
        main(["spell"])
