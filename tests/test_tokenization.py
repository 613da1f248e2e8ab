import random

import pytest
from transformers import AutoTokenizer

from xlw.tokenization import lang_tag, normalized, token_lengths, train_tokenizer

WORDS = {
    "en": ("the dog", "a cat", "my friend", "the child", "runs", "sees", "likes", "a red ball", "the river"),
    "de": ("der Hund", "eine Katze", "mein Freund", "das Kind", "läuft", "sieht", "mag", "einen Ball", "über"),
    "fr": ("le chien", "un chat", "mon ami", "l'enfant", "court", "voit", "aime", "une balle", "à côté"),
    "zh": ("我", "你", "小狗", "猫", "朋友", "喜欢", "看见", "红色的球", "河边", "在"),
}


def synthetic_corpus(n: int = 400, seed: int = 0) -> list[str]:
    """n short made-up sentences in en, de, fr and zh (Chinese without spaces, full-width punctuation)."""
    rng = random.Random(seed)
    sentences = []
    for i in range(n):
        lang = "en de fr zh".split()[i % 4]
        words = rng.choices(WORDS[lang], k=rng.randint(2, 6))
        sentences.append("".join(words) + "。" if lang == "zh" else " ".join(words).capitalize() + ".")
    return sentences + ["你好，朋友！", "Ça va? Très bien, merci.", "Grüß dich, Jürgen!"]


@pytest.fixture(scope="module")
def corpus():
    return synthetic_corpus()


@pytest.fixture(scope="module")
def saved(tmp_path_factory, corpus):
    """The tokenizer trained on `corpus` and the folder it was saved to."""
    folder = tmp_path_factory.mktemp("tokenizer")
    return train_tokenizer(corpus, vocab_size=700, save_dir=folder, extra_special_tokens=["<mask>"]), folder


@pytest.fixture(scope="module")
def tok(saved):
    return saved[0]


SEEN_AND_UNSEEN = [
    "The dog likes a red ball.",
    "Mein Freund läuft über den Fluss.",
    "L'enfant voit un chat à côté.",
    "我喜欢红色的球。",
    "你好，朋友！",  # full-width punctuation: NFKC makes it ASCII
    "Zebras jump quickly!",  # words never seen
    "鼹鼠在河边。",  # characters never seen: byte fallback
    "我喜欢 Python 和C++ 3.12 版本",  # Chinese-Latin mixes with and without spaces
    "two  spaces, then a tab\tend",
]


def test_special_token_ids_follow_opus_mt(tok):
    assert (tok.eos_token_id, tok.unk_token_id, tok.pad_token_id) == (0, 1, len(tok) - 1)  # <pad> last
    tags = [lang_tag(lang) for lang in ("de", "en", "fr", "zh")]
    assert tok.convert_tokens_to_ids([*tags, "<mask>"]) == [2, 3, 4, 5, 6]
    assert set(tags) | {"<mask>", "<pad>", "</s>", "<unk>"} == set(tok.all_special_tokens)
    ids = tok(">>de<< A dog.")["input_ids"]
    assert ids[0] == 2 and tok.decode(ids, skip_special_tokens=True) == "A dog."
    padded = tok(["a", "a dog runs"], padding=True)["input_ids"]
    assert padded[0][-1] == tok.pad_token_id and tok.pad_token_id not in padded[1]


def test_eos_is_appended_to_every_sequence(tok):
    batch = tok(["a cat", "我", ""])["input_ids"]
    assert all(ids[-1] == tok.eos_token_id and tok.eos_token_id not in ids[:-1] for ids in batch)
    assert batch[2] == [tok.eos_token_id]


def test_text_target_gives_labels(tok):
    enc = tok(["the dog runs"], text_target=["小狗在跑。"])
    assert enc["input_ids"] == tok(["the dog runs"])["input_ids"]
    assert enc["labels"] == tok(["小狗在跑。"])["input_ids"]
    assert enc["labels"][0][-1] == tok.eos_token_id


def test_no_training_character_maps_to_unk(tok, corpus):
    characters = sorted(set("".join(normalized(tok, corpus))) - {" "})
    assert len(characters) > 50
    for ids in tok(characters + corpus, add_special_tokens=False)["input_ids"]:
        assert tok.unk_token_id not in ids
        assert not any(t.startswith("<0x") for t in tok.convert_ids_to_tokens(ids))


def test_learns_multi_character_chinese_pieces(tok):
    pieces = tok.convert_ids_to_tokens(tok("我喜欢红色的球", add_special_tokens=False)["input_ids"])
    assert len(pieces) < len("我喜欢红色的球")


@pytest.mark.parametrize("text", SEEN_AND_UNSEEN)
def test_decoding_gives_back_the_normalized_text(tok, text):
    ids = tok(text)["input_ids"]
    assert tok.unk_token_id not in ids
    assert tok.decode(ids, skip_special_tokens=True) == normalized(tok, [text])[0]


def test_normalization_is_nfkc(tok):
    assert normalized(tok, ["你好，ＡＢＣ１２３！", "ﬁ"]) == ["你好,ABC123!", "fi"]


def test_known_loss_a_leading_space(tok):
    assert tok.decode(tok(" a cat")["input_ids"], skip_special_tokens=True) == "a cat"


def test_auto_tokenizer_loads_identical_tokenizer(saved, corpus):
    tok, folder = saved
    loaded = AutoTokenizer.from_pretrained(folder)
    texts = corpus[:20] + SEEN_AND_UNSEEN
    assert loaded(texts, text_target=texts).data == tok(texts, text_target=texts).data
    assert loaded.get_vocab() == tok.get_vocab() and loaded.all_special_ids == tok.all_special_ids
    assert loaded.model_max_length == tok.model_max_length == 512
    ids = tok(texts)["input_ids"]
    assert loaded.batch_decode(ids, skip_special_tokens=True) == tok.batch_decode(ids, skip_special_tokens=True)


def test_token_lengths_count_eos(tok):
    texts = SEEN_AND_UNSEEN
    assert token_lengths(tok, texts) == [len(ids) for ids in tok(texts)["input_ids"]]


def test_vocab_size_must_leave_room_for_pieces(corpus):
    with pytest.raises(ValueError, match="vocab_size=200 leaves no room"):
        train_tokenizer(corpus, vocab_size=200)


def test_token_lengths_ignore_padding_left_by_an_earlier_call(tok):
    texts = ["a dog", "the small red ball is on the green grass"]
    before = token_lengths(tok, texts)
    tok(texts, padding=True, truncation=True, max_length=6)  # leaves padding/truncation set on the backend
    assert token_lengths(tok, texts) == before and before[0] < before[1]
