"""Line recogniser (conv -> CTC): frame grouping, line normalising, a tiny trained model, LM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from jiema import checkpoints
from jiema.errors import ShapeError
from jiema_ocr.line_ctc import FRAME, LINE_HEIGHT, normalize_line

LABELS = ["a", "b", "c"]


def _frames(rows: list[list[float]]) -> np.ndarray:
    p = np.asarray(rows, dtype=np.float64) + 1e-12
    return np.log(p / p.sum(axis=1, keepdims=True))


def test_normalised_lines_have_the_fixed_height_and_frame_multiple_width() -> None:
    img = np.full((50, 200), 230, dtype=np.uint8)
    img[10:40, 20:180] = 20
    img[20:30, 20:180] = 230
    out = normalize_line(img)
    assert out.shape[0] == LINE_HEIGHT and out.shape[1] % FRAME == 0
    assert 0 <= out.min() and out.max() <= 1 and out.max() > 0.9
    np.testing.assert_allclose(normalize_line(255 - img, polarity="light"), out, atol=0.02)
    assert not normalize_line(np.full((10, 10), 100, np.uint8)).any()
    with pytest.raises(ShapeError):
        normalize_line(np.zeros(4))


def test_a_tiny_recogniser_learns_its_lines_and_the_lm_reads_through_it(
        tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from jiema_ocr.glyphs import default_fonts

    fonts = default_fonts()
    if not fonts:
        pytest.skip("no Debian CJK font installed")
    import jiema
    from jiema_ocr.charset import Charset
    from jiema_ocr.language_model import CharLM, count_chars
    from jiema_ocr.line_ctc import LineRecognizer, render_line

    torch.set_num_threads(1)
    cs = Charset(list("电视机中国"))
    texts = ["电视机", "中国", "国电视", "机中", "视国电", "电中"]
    rng = np.random.default_rng(0)
    lines = [render_line(t, fonts[0], rng, size=16) for t in texts]
    rec = LineRecognizer.create(cs, width=8, hidden=32)
    loss = rec.fit(lines, texts, steps=200, lr=6e-3)
    assert loss < 0.5
    plain = [rec.read(im)[0] for im in lines]
    assert sum(p == t for p, t in zip(plain, texts, strict=True)) >= 4

    counts = count_chars(texts * 20)
    lm = CharLM.from_counts(counts)
    assert isinstance(lm.model, jiema.BigramModel)
    with_lm = [rec.read(im, lm=lm) for im in lines]
    assert sum(t == want for (t, _), want in zip(with_lm, texts, strict=True)) >= sum(
        p == t for p, t in zip(plain, texts, strict=True))
    assert all(0.0 <= c <= 1.0 + 1e-9 for _, conf in with_lm for c in conf)

    path = rec.save(tmp_path / "ctc.safetensors")
    again = LineRecognizer.load(path)
    # weights are stored as fp16: the same frames win, the posteriors agree closely
    a, b = again.log_probs(lines[0]), rec.log_probs(lines[0])
    np.testing.assert_allclose(np.exp(a), np.exp(b), atol=2e-2)
    assert (a.argmax(axis=1) == b.argmax(axis=1)).mean() > 0.9


def test_charnet_ctc_starts_from_the_char_cnn_with_4_px_frames() -> None:
    torch = pytest.importorskip("torch")
    from jiema_ocr.cnn.ctc_net import CharNetCTC
    from jiema_ocr.cnn.net import CharNet

    torch.manual_seed(0)
    base = CharNet(7, input_size=40, width=8, hidden=16).eval()
    line = CharNetCTC.from_charnet(base, blank_bias=2.0).eval()
    assert torch.equal(line.head.weight[1:, :, 0, 0], base.head.weight)
    with torch.no_grad():
        assert float(line.head.bias[0]) == pytest.approx(float(base.head.bias.max()) + 2.0)
    assert torch.equal(line.hidden[0].weight.flatten(1), base.hidden[1].weight)
    with torch.no_grad():
        out = line(torch.rand(2, 1, 40, 96))
    assert out.shape == (2, 96 // 4, 8)


def test_greedy_ctc_read_out_and_cer() -> None:
    torch = pytest.importorskip("torch")
    from jiema_ocr.cnn.line_train import cer, greedy_texts, split_texts

    labels = ["a", "b"]
    frames = torch.tensor([[0, 1, 1, 0, 1, 2, 2, 0]])  # blank a a blank a b b blank
    logits = torch.nn.functional.one_hot(frames, 3).float()
    assert greedy_texts(logits, [8], labels) == ["aab"]
    assert greedy_texts(logits, [3], labels) == ["a"]
    assert cer(["ａ b c"], ["abd"]) == pytest.approx(1 / 3)  # NFKC, spaces ignored
    train, held = split_texts([str(k) for k in range(41)], every=20)
    assert held == ["0", "20", "40"] and len(train) == 38


def test_half_width_draws_digits_and_letters_narrow_but_keeps_chinese_punctuation() -> None:
    pytest.importorskip("torch")
    from jiema_ocr.charset import default_charset
    from jiema_ocr.cnn.line_train import half_width

    text = "１９９８年ＡＰＥＣ会议，增长５．３％（图）："
    assert half_width(text) == "1998年APEC会议，增长5.3%（图）："
    cs = default_charset()
    assert (cs.encode(half_width(text)) == cs.encode(text)).all()  # the same labels


@pytest.fixture
def pd_corpus(tmp_path: Path) -> Path:
    """A tiny People's Daily-format corpus for training runs (skips without torch or fonts)."""
    pytest.importorskip("torch")
    from jiema_ocr.glyphs import default_fonts

    if not default_fonts():
        pytest.skip("no Debian CJK font installed")
    corpus = tmp_path / "pd.txt"
    corpus.write_text("\n".join(["中国/ns  人民/n  银行/n", "今天/t  发布/v  了/u  数据/n"] * 3)
                      + "\n", encoding="utf-8")
    return corpus


def test_line_training_checkpoints_and_resumes(tmp_path: Path, pd_corpus: Path) -> None:
    from jiema_ocr.cnn.line_train import LineTrainOptions, train_lines
    from jiema_ocr.line_ctc import LineRecognizer

    corpus = pd_corpus
    opts = LineTrainOptions(corpus=[str(corpus)], init=None, steps=3, batch_size=2,
                            eval_lines=2, max_chars=4)
    scores = train_lines(tmp_path / "run", opts, progress=False)
    assert 0.0 <= scores["cer"]
    rec = LineRecognizer.load(tmp_path / "run" / "best.json")
    assert rec.arch == "charnet_ctc" and rec.height == 40

    # resuming keeps the saved options: a run that used its budget stops at once
    train_lines(tmp_path / "run", LineTrainOptions(corpus=[str(corpus)], lr=1.0), resume=True,
                progress=False)
    state = checkpoints.read_state(tmp_path / "run", "last")
    assert state["step"] == 3 and state["options"]["lr"] == opts.lr
    # ... but a budget given explicitly extends it
    again = train_lines(tmp_path / "run", LineTrainOptions(corpus=[str(corpus)], steps=5),
                        resume=True, progress=False)
    assert "cer" in again
    state = checkpoints.read_state(tmp_path / "run", "last")
    assert state["step"] == 5 and state["options"]["max_chars"] == 4


def test_the_train_command_trains_a_line_recogniser(tmp_path: Path, pd_corpus: Path) -> None:
    import json

    import jiema
    import jiema_ocr.plugin as plugin
    from click.testing import CliRunner
    from jiema.cli import build_cli
    from jiema_ocr.line_ctc import LineRecognizer

    corpus = pd_corpus
    cli = build_cli(jiema.Engine(plugins=[plugin], load_entry_points=False))
    args = ["train", "ocr-line", "--corpus", str(corpus), "--out", str(tmp_path / "run"),
            "--init", "none", "--steps", "2", "--batch-size", "2", "--eval-lines", "2"]
    res = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.strip().splitlines()[-1])["heldout_cer"] >= 0
    assert LineRecognizer.load(tmp_path / "run" / "best.json").arch == "charnet_ctc"
    res = CliRunner().invoke(cli, [*args[:-8], "--resume", "--steps", "3"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output

    state = checkpoints.read_state(tmp_path / "run", "last")
    assert state["step"] == 3 and state["options"]["batch_size"] == 2  # saved, not the default
    # a resume with no new budget ends at once, and says so (not with the extended one above)
    assert "spent its budget" not in res.stderr
    res = CliRunner().invoke(cli, [*args[:-8], "--resume"], catch_exceptions=False)
    assert res.exit_code == 0 and "spent its budget (step 3 of --steps 3)" in res.stderr
    assert checkpoints.read_state(tmp_path / "run", "last")["step"] == 3
    res = CliRunner().invoke(cli, ["train", "ocr-line", "--corpus", str(corpus), "--out",
                                   str(tmp_path / "other"), "--resume"])
    assert res.exit_code != 0 and "no checkpoint" in res.output


def test_the_line_reader_feeds_whole_found_lines_through_the_lm() -> None:
    from jiema_ocr.charset import Charset
    from jiema_ocr.language_model import CharLM
    from jiema_ocr.line_ctc import LineCTCReader
    from jiema_ocr.synth import find_fonts
    from jiema_ocr.synth import render_line as synth_line

    fonts = find_fonts()
    if not fonts:
        pytest.skip("no Debian CJK font installed")

    class FramesOf:
        """A stand-in recogniser: 电 then 柳/视 (柳 ahead, as in the seed example). Each
        character spikes on one frame, as CTC networks do: CTC sums frame scores, so a
        character's evidence counts once per frame it holds."""

        height = 40
        charset = Charset(["电", "宙", "柳", "视", "规"])

        def log_probs(self, crop: np.ndarray, polarity: str) -> np.ndarray:
            assert crop.dtype == np.uint8 and polarity == "dark"
            frames = np.full((12, 6), 1e-6)
            frames[:, 0] = 1.0  # blank
            frames[3] = [1e-6, 0.99, 0.01, 1e-6, 1e-6, 1e-6]
            frames[8] = [1e-6, 1e-6, 1e-6, 0.6, 0.4, 1e-6]
            return np.log(frames / frames.sum(axis=1, keepdims=True))

    import jiema

    lm = CharLM(list(FramesOf.charset.labels), jiema.BigramModel.from_counts(  # the seed counts
        [145001, 1980, 0, 0, 0], [0, 0, 0, 1], [2, 3, 4, 4], [0, 12426, 7, 18]))
    image = synth_line("电视", fonts[0], 36, seed=0).image
    from jiema_ocr.pipeline import LMDecoder

    reader = LineCTCReader(FramesOf(), LMDecoder(lm))  # type: ignore[arg-type]
    result = reader.read(image)
    assert result.text == "电视"
    assert LineCTCReader(FramesOf(), None).read(image).text == "电柳"  # type: ignore[arg-type]
    (line,) = result.lines
    assert len(line.glyphs) == 2
    for g in line.glyphs:
        assert line.box[0] <= g.box[0] < g.box[2] <= line.box[2]
    assert line.glyphs[0].box[2] <= line.glyphs[1].box[0] + 2


def test_glyph_boxes_stay_in_the_line_when_the_frames_run_past_its_ink() -> None:
    from jiema_ocr.charset import Charset
    from jiema_ocr.line_ctc import LineCTCReader
    from jiema_ocr.synth import find_fonts
    from jiema_ocr.synth import render_line as synth_line

    fonts = find_fonts()
    if not fonts:
        pytest.skip("no Debian CJK font installed")

    class LongFrames:
        """More frames than the crop is wide, the last character on the very last one."""

        height = 40
        charset = Charset(["电", "视"])

        def log_probs(self, crop: np.ndarray, polarity: str) -> np.ndarray:
            frames = np.full((4 * crop.shape[1], 3), 1e-6)
            frames[:, 0] = 1.0
            frames[1] = [1e-6, 1.0, 1e-6]
            frames[-1] = [1e-6, 1e-6, 1.0]
            return np.log(frames / frames.sum(axis=1, keepdims=True))

    image = synth_line("电视", fonts[0], 36, seed=0).image
    (line,) = LineCTCReader(LongFrames(), None).read(image).lines  # type: ignore[arg-type]
    assert line.text == "电视"
    for g in line.glyphs:
        assert line.box[0] <= g.box[0] < g.box[2] <= line.box[2]


def test_the_config_and_the_cli_switch_the_reader_to_the_line_recogniser(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from jiema_ocr.synth import find_fonts
    from jiema_ocr.synth import render_line as synth_line

    fonts = find_fonts()
    if not fonts:
        pytest.skip("no Debian CJK font installed")
    import json

    import jiema
    import jiema_ocr.plugin as plugin
    from click.testing import CliRunner
    from jiema.cli import build_cli
    from jiema_ocr.charset import Charset
    from jiema_ocr.line_ctc import LineCTCReader, LineRecognizer
    from jiema_ocr.pipeline import OcrReader, first_candidates
    from PIL import Image

    path = LineRecognizer.create(Charset(list("电视机")), width=8, hidden=16).save(
        tmp_path / "tiny.safetensors", name="tiny-line")
    image = tmp_path / "line.png"
    Image.fromarray(synth_line("电视机", fonts[0], 36, seed=0).image).save(image)
    engine = jiema.Engine(plugins=[plugin], load_entry_points=False, config={"ocr": {
        "reader": {"component": "ocr.line_ctc.v1", "model": str(path),
                   "options": {"top_k": 2}},
        "decoder": {"component": "ocr.no_lm.v1"},
        "regions": {"options": {"min_line_height": 7}},
    }})
    reader = engine.task("ocr")
    assert isinstance(reader, LineCTCReader) and reader.decoder is first_candidates
    assert reader.k == 2
    assert list(reader.recognizer.charset.labels) == list("电视机")
    assert reader.options.regions.min_line_height == 7
    result = reader.read(str(image))
    assert set(result.text) <= set("电视机\n") and "recognise" in result.timings
    assert all(len(g.candidates) <= 2 for line in result.lines for g in line.glyphs)

    cli = build_cli(engine)
    res = CliRunner().invoke(cli, ["ocr", "--jsonl", "--reader", "cut-classify", "--model",
                                   str(path), str(image)])
    assert res.exit_code != 0 and "ocr.char_cnn.v1" in res.output  # a line model, not a char one
    res = CliRunner().invoke(cli, ["ocr", "--jsonl", "--reader", "line-ctc", "--model",
                                   str(path), str(image)], catch_exceptions=False)
    assert res.exit_code == 0 and json.loads(res.stdout)["error"] is None
    with pytest.raises(jiema.errors.ConfigError):
        jiema.Engine(plugins=[plugin], load_entry_points=False, config={"ocr": {
            "reader": {"component": "ocr.line_ctc.v1", "options": {"cutting": 1}}}}).task("ocr")
    default = jiema.Engine(plugins=[plugin], load_entry_points=False).task("ocr")
    # the default reader reads each line both ways and merges the readings
    assert isinstance(default.cut_reader, OcrReader)
    assert isinstance(default.line_reader, LineCTCReader)


def test_a_paused_and_resumed_line_run_is_bit_identical_to_an_unbroken_one(
        tmp_path: Path, pd_corpus: Path) -> None:
    import torch
    from jiema_ocr.cnn.line_train import LineTrainOptions, train_lines

    opts = LineTrainOptions(corpus=[str(pd_corpus)], init=None, steps=5, batch_size=2,
                            eval_lines=2, max_chars=4, checkpoint_minutes=60)  # dropout 0.1
    train_lines(tmp_path / "a", opts, progress=False)
    train_lines(tmp_path / "b", opts, progress=False, stop_at=2)
    assert checkpoints.read_state(tmp_path / "b", "last")["step"] == 2
    train_lines(tmp_path / "b", opts, progress=False, resume=True)
    a, b = checkpoints.load_tensors(tmp_path / "a", "last"), checkpoints.load_tensors(
        tmp_path / "b", "last")
    assert a.keys() == b.keys() and any(k.startswith("opt.") for k in a)
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_line_training_starts_from_the_shipped_char_cnn() -> None:
    """`--init gb2312-cnn`: the line model takes the char CNN's train-time weights (the reading
    net's folded and int8 layers cannot be copied)."""
    import torch
    from jiema_ocr.charset import Charset
    from jiema_ocr.classifier import load_trained
    from jiema_ocr.cnn.line_train import LineTrainOptions, _initial_net

    net, charset, _ = load_trained("gb2312-cnn")
    line = _initial_net(LineTrainOptions(corpus=["unused"], init="gb2312-cnn"),
                        Charset(charset.labels))
    assert torch.equal(line.features[0].weight, net.features[0].weight)
    assert line.head.out_channels == len(charset.labels) + 1  # blank first


def test_line_training_fine_tunes_the_shipped_line_recogniser() -> None:
    """`--init gb2312-line-ctc`: the run goes on from the line model's own train-time weights,
    its CTC head included (not from a char CNN's conv stages)."""
    import torch
    from jiema_ocr.charset import default_charset
    from jiema_ocr.cnn.line_train import LineTrainOptions, _initial_net
    from jiema_ocr.line_ctc import LineRecognizer

    shipped = LineRecognizer.load("gb2312-line-ctc", for_cpu=False).net
    line = _initial_net(LineTrainOptions(corpus=["unused"], init="gb2312-line-ctc"),
                        default_charset())
    for key, value in shipped.state_dict().items():
        assert torch.equal(line.state_dict()[key], value), key


def test_a_run_of_one_wide_character_keeps_as_many_as_its_extent_holds() -> None:
    from jiema_ocr.line_ctc import runs_as_wide_as_their_ink
    from jiema_ocr.results import GlyphResult

    def glyphs(chars: str, centres: list[float], confs: list[float]) -> list[GlyphResult]:
        return [GlyphResult((int(c) - 2, 0, int(c) + 2, 20), ch, p, [(ch, p)])
                for ch, c, p in zip(chars, centres, confs, strict=True)]

    # ——— (three em dashes, 20 px an em) emitted eight times: three kept, each its share's
    # surest reading, boxes covering the share
    dashes = glyphs("—" * 8, [10 + 6 * k for k in range(8)], [0.2, 0.3, 0.1, 0.6, 0.2, 0.2,
                                                            0.4, 0.3])
    kept = runs_as_wide_as_their_ink(glyphs("好", [0], [0.9]) + dashes)
    assert "".join(g.char for g in kept) == "好———"
    assert [g.confidence for g in kept[1:]] == [0.3, 0.6, 0.4]
    assert kept[1].box[0] == dashes[0].box[0] and kept[-1].box[2] == dashes[-1].box[2]
    # 一 emitted twice 0.2 em apart is one; 纷纷 an em apart stays two
    assert [g.char for g in runs_as_wide_as_their_ink(glyphs("一一", [10, 14], [0.9, 0.4]))] \
        == ["一"]
    assert len(runs_as_wide_as_their_ink(glyphs("纷纷", [10, 28], [0.9, 0.9]))) == 2
    # wide Latin letters too (www. read as wwwww.), other ASCII runs are left as read
    assert len(runs_as_wide_as_their_ink(glyphs("wwwww", [10, 16, 22, 28, 34], [0.9] * 5))) == 3
    assert len(runs_as_wide_as_their_ink(glyphs("www", [10, 24, 38], [0.9] * 3))) == 3
    assert len(runs_as_wide_as_their_ink(glyphs("000", [10, 13, 16], [0.9] * 3))) == 3


def test_two_hanzi_read_closer_than_an_em_are_one_glyph_read_twice() -> None:
    from jiema_ocr.language_model import CharLM, count_chars
    from jiema_ocr.line_ctc import hanzi_an_em_apart
    from jiema_ocr.results import GlyphResult

    def glyphs(chars: str, centres: list[float], confs: list[float]) -> list[GlyphResult]:
        return [GlyphResult((int(c) - 2, 0, int(c) + 2, 16), ch, p, [(ch, p)])
                for ch, c, p in zip(chars, centres, confs, strict=True)]

    # 整合 read 整台合 on the news screenshot (16 px an em): 台 and 合 1.5 px apart
    read = glyphs("整台合共", [521.5, 536.0, 537.5, 553.5], [0.99, 0.37, 0.85, 0.99])
    assert "".join(g.char for g in hanzi_an_em_apart(read)) == "整合共"
    # hanzi an em apart, and letters or digits however close, stay
    assert len(hanzi_an_em_apart(glyphs("纷纷", [10, 26], [0.9, 0.9]))) == 2
    assert len(hanzi_an_em_apart(glyphs("a1", [10, 12], [0.9, 0.9]))) == 2
    # with an LM the pair's neighbours decide: 公斤 read 公厅斤, 厅 the surer
    lm = CharLM.from_counts(count_chars(["九百四十七公斤", "公斤", "一公斤"] * 5 + ["大厅"]))
    read = glyphs("公厅斤", [334.5, 368.0, 369.5], [0.99, 0.86, 0.6])
    assert "".join(g.char for g in hanzi_an_em_apart(read)) == "公厅"
    assert "".join(g.char for g in hanzi_an_em_apart(read, lm, 0.15)) == "公斤"
