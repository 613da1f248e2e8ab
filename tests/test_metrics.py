import re
import string
from collections import Counter

import numpy as np
import pytest
import sacrebleu
from sklearn.metrics import average_precision_score, ndcg_score

from xlw import metrics as M

# --- Machine translation -------------------------------------------------------------------------

HYPS = ["The cat sat on the mat.", "It is raining today.", "He reads a book in the garden."]
REFS = ["The cat is sitting on the mat.", "Today it rains.", "He is reading a book in the garden."]
REFS2 = ["A cat sat on the mat.", "It is raining today.", "In the garden he reads a book."]
ZH_HYPS = ["今天天气很好。", "我喜欢读书。"]
ZH_REFS = ["今天的天气很好。", "我很喜欢看书。"]


def test_scores_equal_sacrebleu_and_carry_its_signature():
    assert M.bleu(HYPS, REFS).score == pytest.approx(sacrebleu.corpus_bleu(HYPS, [REFS]).score)
    assert M.chrf(HYPS, REFS).score == pytest.approx(sacrebleu.corpus_chrf(HYPS, [REFS]).score)
    assert M.ter(HYPS, REFS).score == pytest.approx(sacrebleu.corpus_ter(HYPS, [REFS]).score)
    score = M.bleu(HYPS, REFS)
    assert score.name == "BLEU" and float(score) == score.score
    assert "tok:13a" in score.signature and "case:mixed" in score.signature and "nrefs:1" in score.signature


def test_chinese_uses_the_zh_tokenizer():
    zh = M.bleu(ZH_HYPS, ZH_REFS, target_lang="zh")
    assert zh.score == pytest.approx(sacrebleu.corpus_bleu(ZH_HYPS, [ZH_REFS], tokenize="zh").score)
    # Without zh tokenization each unspaced sentence is one token and nothing matches.
    assert zh.score > M.bleu(ZH_HYPS, ZH_REFS, target_lang="en").score
    assert "tok:zh" in zh.signature
    assert M.bleu(ZH_HYPS, ZH_REFS, target_lang="zh-CN").signature == zh.signature
    zh_ter = M.ter(ZH_HYPS, ZH_REFS, target_lang="zh")
    assert zh_ter.score == pytest.approx(sacrebleu.corpus_ter(ZH_HYPS, [ZH_REFS], asian_support=True).score)
    assert "asian:yes" in zh_ter.signature


def test_bleu_tokenizer_follows_the_script_of_the_target_language():
    assert {lang: M.bleu_tokenizer(lang) for lang in ("en", "de", "ar", "hi", "zh", "zh-TW", "cmn", "th", "km")} == {
        "en": "13a", "de": "13a", "ar": "13a", "hi": "13a", "zh": "zh", "zh-TW": "zh", "cmn": "zh",
        "th": "char", "km": "char"}
    assert M.bleu_tokenizer("ja") in {"ja-mecab", "char"} and M.bleu_tokenizer("ko") in {"ko-mecab", "13a"}
    assert M.bleu_tokenizer("not a code!") == "13a"
    thai = M.bleu(["แมว นั่ง อยู่"], ["แมวนั่งอยู่"], target_lang="th")  # spaces inside Thai do not count
    assert thai.score == pytest.approx(100.0) and "tok:char" in thai.signature


def test_multiple_reference_streams():
    two = M.bleu(HYPS, [REFS, REFS2])
    assert two.score == pytest.approx(sacrebleu.corpus_bleu(HYPS, [REFS, REFS2]).score)
    assert two.score > M.bleu(HYPS, REFS).score  # REFS2 matches the second hypothesis exactly
    assert "nrefs:2" in two.signature
    both = M.corpus_scores(HYPS, [REFS, REFS2])
    assert set(both) == {"bleu", "chrf", "ter"}
    assert both["chrf"].score == pytest.approx(sacrebleu.corpus_chrf(HYPS, [REFS, REFS2]).score)
    assert both["ter"].score == pytest.approx(sacrebleu.corpus_ter(HYPS, [REFS, REFS2]).score)


def test_sentence_bleu_matches_sacrebleu():
    expected = sacrebleu.sentence_bleu(HYPS[0], [REFS[0], REFS2[0]]).score
    assert M.sentence_bleu(HYPS[0], [REFS[0], REFS2[0]]) == pytest.approx(expected)
    assert M.sentence_bleu(HYPS[1], REFS2[1]) == pytest.approx(100)
    assert 0 < M.sentence_bleu("猫", "猫坐着", target_lang="zh") < 100


def test_translation_input_errors():
    with pytest.raises(ValueError, match="hyps has 3 sentences but reference stream 0 has 2"):
        M.bleu(HYPS, REFS[:2])
    with pytest.raises(ValueError, match="hyps has 3 sentences but reference stream 1 has 2"):
        M.chrf(HYPS, [REFS, REFS2[:2]])
    with pytest.raises(ValueError, match="hyps has 2 sentences but reference stream 0 has 1"):
        M.bleu(ZH_HYPS, [[ZH_REFS[0]], [ZH_REFS[1]]])  # references grouped per sentence, not per stream
    with pytest.raises(ValueError, match="hyps must be a list of strings, not a single string"):
        M.ter(HYPS[0], REFS[0])
    with pytest.raises(ValueError, match="hyps is empty"):
        M.bleu([], [])
    with pytest.raises(ValueError, match="refs must be a list"):
        M.bleu(HYPS, [])
    with pytest.raises(ValueError, match="hyps must be a list of strings, but it holds 1 of type NoneType"):
        M.bleu([None, "a", "b"], REFS)


# --- Classification ------------------------------------------------------------------------------

Y_TRUE = ["a", "a", "a", "b", "b", "c"]
Y_PRED = ["a", "a", "b", "b", "c", "c"]


def test_accuracy_and_macro_f1_by_hand():
    # Correct at positions 0, 1, 3, 5: accuracy 4/6.
    assert M.accuracy(Y_TRUE, Y_PRED) == pytest.approx(4 / 6)
    # a: tp 2, fp 0, fn 1 -> P 1, R 2/3, F1 4/5;  b: tp 1, fp 1, fn 1 -> F1 1/2;
    # c: tp 1, fp 1, fn 0 -> P 1/2, R 1, F1 2/3;  macro = (4/5 + 1/2 + 2/3) / 3 = 59/90.
    assert M.macro_f1(Y_TRUE, Y_PRED) == pytest.approx(59 / 90)
    assert M.macro_f1(Y_TRUE, Y_PRED, labels=["a", "b"]) == pytest.approx((4 / 5 + 1 / 2) / 2)
    # Class 1 is never predicted, so its F1 is 0; class 0 has P 1/2, R 1, F1 2/3: macro 1/3.
    assert M.macro_f1([0, 1], [0, 0]) == pytest.approx(1 / 3)
    # A requested label that occurs nowhere scores 0 too: (1 + 0) / 2.
    assert M.macro_f1([0, 0], [0, 0], labels=[0, 1]) == pytest.approx(1 / 2)


def test_confusion_matrix_rows_are_true_columns_predicted():
    table = M.confusion_matrix(Y_TRUE, Y_PRED)
    assert table.index.name == "true" and table.columns.name == "predicted"
    assert table.index.tolist() == table.columns.tolist() == ["a", "b", "c"]
    assert table.to_numpy().tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert table.loc["a", "b"] == 1 and table.loc["b", "a"] == 0  # one true "a" predicted as "b"
    ordered = M.confusion_matrix(Y_TRUE, Y_PRED, labels=["c", "b", "a"])
    assert ordered.to_numpy().tolist() == [[1, 0, 0], [1, 1, 0], [0, 1, 2]]


@pytest.mark.parametrize("metric", [M.accuracy, M.macro_f1, M.confusion_matrix])
def test_classification_input_errors(metric):
    with pytest.raises(ValueError, match="y_true has 6 labels but y_pred has 5"):
        metric(Y_TRUE, Y_PRED[:5])
    with pytest.raises(ValueError, match="empty"):
        metric([], [])


# --- Extractive QA -------------------------------------------------------------------------------
# The official SQuAD v1.1 evaluation functions (evaluate-v1.1.py), copied verbatim apart from names.

def official_normalize_answer(s):
    """Lower text and remove punctuation, articles and extra whitespace."""
    def remove_articles(text):
        return re.sub(r'\b(a|an|the)\b', ' ', text)

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def official_f1_score(prediction, ground_truth):
    prediction_tokens = official_normalize_answer(prediction).split()
    ground_truth_tokens = official_normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    f1 = (2 * precision * recall) / (precision + recall)
    return f1


def official_exact_match_score(prediction, ground_truth):
    return (official_normalize_answer(prediction) == official_normalize_answer(ground_truth))


def official_metric_max_over_ground_truths(metric_fn, prediction, ground_truths):
    scores_for_ground_truths = []
    for ground_truth in ground_truths:
        score = metric_fn(prediction, ground_truth)
        scores_for_ground_truths.append(score)
    return max(scores_for_ground_truths)


ENGLISH_CASES = [
    ("The Eiffel Tower", ["eiffel tower"]),                      # article and case
    ("an apple a day", ["Apple day!"]),                          # articles and punctuation
    ("Denver Broncos.", ["Denver Broncos", "Broncos"]),          # punctuation, several truths
    ("the Broncos of Denver", ["Denver Broncos"]),               # partial overlap
    ("Paris", ["London", "Rome"]),                               # no overlap
    ("  Santa\tClara ,  California ", ["Santa Clara"]),         # whitespace
    ("$5.00 (approx.)", ["5.00", "$5"]),                         # ASCII symbols the script removes
    ("Theatre and thesis", ["the theatre"]),                     # "the" only as a word
    ("cat cat cat", ["the cat"]),                                # repeated tokens are clipped
    ("", ["something"]),                                         # empty prediction
    ("A-B testing, e.g. in 2019", ["AB testing in 2019", "eg"]),
]


@pytest.mark.parametrize(("prediction", "truths"), ENGLISH_CASES)
def test_english_qa_agrees_with_the_official_script(prediction, truths):
    assert M.normalize_answer(prediction) == official_normalize_answer(prediction)
    assert M.exact_match(prediction, truths) == float(
        official_metric_max_over_ground_truths(official_exact_match_score, prediction, truths))
    assert M.qa_f1(prediction, truths) == pytest.approx(
        official_metric_max_over_ground_truths(official_f1_score, prediction, truths))


def test_english_cases_cover_partial_and_full_scores():
    f1s = [M.qa_f1(p, t) for p, t in ENGLISH_CASES]
    assert 0.0 in f1s and 1.0 in f1s and any(0 < f < 1 for f in f1s)


def test_cjk_answers_score_per_character():
    # "北京大学" vs "北京": 2 common characters, precision 2/4, recall 2/2, F1 = 2 * 1/2 * 1 / (3/2) = 2/3.
    assert M.qa_f1("北京大学", ["北京"]) == pytest.approx(2 / 3)
    assert M.exact_match("北京大学", ["北京"]) == 0.0
    assert M.qa_f1("北京大学", ["上海", "北京大学"]) == 1.0
    assert M.exact_match("北京，", ["北京"]) == 1.0
    assert M.exact_match("北京 大学", ["北京大学"]) == 1.0  # spacing between characters does not count
    assert M.normalize_answer("“《红楼梦》”？！、。") == "红楼梦"
    assert M.answer_tokens("iPhone 手机") == ["iphone", "手", "机"]
    assert M.answer_tokens("iPhone手机") == ["iphone", "手", "机"]
    assert M.answer_tokens("東京タワーへ") == ["東", "京", "タ", "ワ", "ー", "へ"]
    assert M.answer_tokens("서울 시") == ["서", "울", "시"]
    assert M.answer_tokens("\u3400\u3401 \uf900") == ["\u3400", "\u3401", "\uf900"]  # ext. A, compatibility
    assert M.answer_tokens("Straße, café — naïve") == ["straße", "café", "naïve"]  # Unicode punctuation dropped


def test_thai_answers_score_per_character():
    # Thai is written without spaces: whitespace tokens would make "กรุงเทพมหานคร" one token and F1 = 0.
    # Grapheme clusters keep a vowel mark with its consonant: กรุงเทพ is ก รุ ง เ ท พ (6), the city 12.
    assert M.answer_tokens("กรุงเทพ") == ["ก", "รุ", "ง", "เ", "ท", "พ"]
    assert M.qa_f1("กรุงเทพมหานคร", ["กรุงเทพ"]) == pytest.approx(2 * (6 / 12) * 1 / (6 / 12 + 1))
    assert M.exact_match("กรุงเทพ ฯ", ["กรุงเทพฯ"]) == 1.0
    assert M.answer_tokens("ปี 1932") == ["ปี", "1932"]  # digits stay a whitespace run


def test_squad_scores_in_percent():
    predictions = {"q1": "北京", "q2": "the Denver Broncos", "extra": "ignored"}
    references = {"q1": ["北京大学"], "q2": ["Denver Broncos"]}
    # q1: EM 0, F1 2/3 (precision 1, recall 1/2); q2: EM 1, F1 1.
    scores = M.squad_scores(predictions, references)
    assert scores == pytest.approx({"em": 50.0, "f1": 100 * (2 / 3 + 1) / 2})


def test_qa_input_errors():
    with pytest.raises(ValueError, match="'q2'"):
        M.squad_scores({"q1": "x"}, {"q1": ["x"], "q2": ["y"]})
    with pytest.raises(ValueError, match=r"references\['q1'\] must be a non-empty list"):
        M.squad_scores({"q1": "x"}, {"q1": []})
    with pytest.raises(ValueError, match="references is empty"):
        M.squad_scores({}, {})
    with pytest.raises(ValueError, match="ground_truths must be a non-empty list"):
        M.qa_f1("北京", "北京大学")  # a bare string would otherwise be read as four answers
    with pytest.raises(ValueError, match="answer must be a string, got NoneType"):
        M.exact_match(None, ["x"])


# --- Retrieval ranking ---------------------------------------------------------------------------

SCORES = np.array([[0.1, 0.9, 0.5, 0.3],   # ranking: doc 1, 2, 3, 0
                   [0.8, 0.2, 0.4, 0.6]])  # ranking: doc 0, 3, 2, 1


def test_single_gold_by_hand():
    gold = [2, 1]  # ranked 2nd for query 0 and 4th (last) for query 1
    assert M.rank_of_gold(SCORES, gold).tolist() == [2, 4]
    assert M.mrr(SCORES, gold) == pytest.approx((1 / 2 + 1 / 4) / 2)
    assert M.accuracy_at_1(SCORES, gold) == 0.0
    assert M.accuracy_at_1(SCORES, [1, 0]) == 1.0
    assert M.recall_at_k(SCORES, gold, 1) == 0.0
    assert M.recall_at_k(SCORES, gold, 2) == pytest.approx(1 / 2)
    assert M.recall_at_k(SCORES, gold, 4) == 1.0
    # One relevant document: AP is 1/rank, so MAP equals MRR.
    assert M.mean_average_precision(SCORES, gold) == pytest.approx(M.mrr(SCORES, gold))


def test_relevance_matrix_by_hand():
    relevant = np.array([[1, 0, 1, 0],    # ranked hits: 0 1 0 1
                         [1, 0, 0, 1]])   # ranked hits: 1 1 0 0
    # AP: query 0 (1/2 + 2/4) / 2 = 1/2, query 1 (1/1 + 2/2) / 2 = 1; MAP 3/4.
    assert M.mean_average_precision(SCORES, relevant) == pytest.approx(3 / 4)
    assert M.mrr(SCORES, relevant) == pytest.approx((1 / 2 + 1) / 2)
    assert M.accuracy_at_1(SCORES, relevant) == pytest.approx(1 / 2)
    # recall@1: 0/2 and 1/2; recall@2: 1/2 and 2/2.
    assert M.recall_at_k(SCORES, relevant, 1) == pytest.approx(1 / 4)
    assert M.recall_at_k(SCORES, relevant, 2) == pytest.approx(3 / 4)
    assert M.mean_average_precision(SCORES, relevant.astype(bool)) == pytest.approx(3 / 4)


def test_graded_ndcg_by_hand():
    relevant = np.array([[3, 0, 2, 0],    # ranked gains: 0 2 0 3, ideal 3 2 0 0
                         [0, 1, 0, 2]])   # ranked gains: 0 2 0 1, ideal 2 1 0 0
    d2 = 1 / np.log2(3)  # discount of rank 2; rank 1's is 1
    expected = ((2 * d2) / (3 + 2 * d2) + (2 * d2) / (2 + 1 * d2)) / 2
    assert M.ndcg_at_k(SCORES, relevant, 2) == pytest.approx(expected)
    assert M.ndcg_at_k(SCORES, [1, 0], 1) == 1.0


def test_ties_are_broken_pessimistically():
    assert M.rank_of_gold(np.zeros((2, 3)), [0, 2]).tolist() == [3, 3]
    assert M.rank_of_gold([[1.0, 1.0, 0.0]], [0]).tolist() == [2]
    assert M.accuracy_at_1(np.ones((3, 3)), [0, 1, 2]) == 0.0
    # Graded ties: the less relevant document is ranked first.
    assert M.ndcg_at_k([[1.0, 1.0]], [[2, 1]], 1) == pytest.approx(1 / 2)


def random_case(seed, graded):
    """Random scores (no ties) and relevance with at least one relevant document per query."""
    rng = np.random.default_rng(seed)
    scores = rng.random((30, 20))
    relevant = rng.integers(0, 4, size=scores.shape) if graded else (rng.random(scores.shape) < 0.2).astype(int)
    relevant[relevant.sum(axis=1) == 0, 0] = 1
    return scores, relevant


@pytest.mark.parametrize("k", [1, 3, 10, 20])
def test_ndcg_agrees_with_sklearn(k):
    scores, relevant = random_case(0, graded=True)
    assert M.ndcg_at_k(scores, relevant, k) == pytest.approx(ndcg_score(relevant, scores, k=k))


def test_map_agrees_with_sklearn():
    scores, relevant = random_case(1, graded=False)
    expected = np.mean([average_precision_score(r, s) for r, s in zip(relevant, scores)])
    assert M.mean_average_precision(scores, relevant) == pytest.approx(expected)


def test_torch_and_numpy_inputs_agree():
    torch = pytest.importorskip("torch")
    scores, relevant = random_case(2, graded=True)
    gold = scores.argmax(axis=1)
    gold[::2] = 0  # half the queries get a gold that is not the top document
    for metric, args in [(M.mrr, ()), (M.accuracy_at_1, ()), (M.recall_at_k, (5,)), (M.ndcg_at_k, (5,))]:
        assert metric(torch.from_numpy(scores), torch.from_numpy(gold), *args) == metric(scores, gold, *args)
    assert M.mean_average_precision(torch.from_numpy(scores).float(), torch.from_numpy(relevant) > 0) == (
        M.mean_average_precision(scores.astype(np.float32), relevant > 0))
    assert M.ndcg_at_k(torch.from_numpy(scores), torch.from_numpy(relevant), 7) == M.ndcg_at_k(scores, relevant, 7)


def test_ranking_input_errors():
    with pytest.raises(ValueError, match="k must be an integer from 1 to the number of documents"):
        M.recall_at_k(SCORES, [0, 1], 0)
    with pytest.raises(ValueError, match=r"number of documents \(4\), got 5"):
        M.ndcg_at_k(SCORES, [0, 1], 5)
    with pytest.raises(ValueError, match="got 1.5"):
        M.recall_at_k(SCORES, [0, 1], 1.5)
    with pytest.raises(ValueError, match=r"relevant has shape \(2, 3\) but scores has \(2, 4\)"):
        M.mrr(SCORES, np.ones((2, 3)))
    with pytest.raises(ValueError, match="gold has 3 entries but scores has 2 queries"):
        M.mrr(SCORES, [0, 1, 2])
    with pytest.raises(ValueError, match=r"integer document indices in \[0, 4\)"):
        M.mrr(SCORES, [0, 4])
    with pytest.raises(ValueError, match="integer document indices"):
        M.mrr(SCORES, [True, False])
    with pytest.raises(ValueError, match="1 queries have no relevant document, e.g. query 1"):
        M.mean_average_precision(SCORES, [[1, 0, 0, 0], [0, 0, 0, 0]])
    with pytest.raises(ValueError, match="non-negative"):
        M.ndcg_at_k(SCORES, [[1, -1, 0, 0], [1, 0, 0, 0]], 2)
    with pytest.raises(ValueError, match=r"\(n_queries, n_docs\) matrix, got shape \(4,\)"):
        M.mrr(SCORES[0], [0])
    with pytest.raises(ValueError, match="NaN"):
        M.mrr([[np.nan, 1.0]], [0])


def test_bleu_by_length_scores_each_bin_as_a_corpus():
    hyps = ["a b c d", "x y", "the cat sat on the mat today"]
    refs = ["a b c d", "p q", "the cat sat on the mat today"]
    table = M.bleu_by_length([4, 10, 11], hyps, refs, bins=(0, 10, 20))
    assert list(table["sentences"]) == [2, 1]  # length 10 falls in the first bin (edges are inclusive above)
    assert table["BLEU"].iloc[0] == pytest.approx(M.bleu(hyps[:2], refs[:2]).score)
    assert table["BLEU"].iloc[1] == pytest.approx(100.0)
    with pytest.raises(ValueError, match="differ in length: 2, 3, 3"):
        M.bleu_by_length([1, 2], hyps, refs)


def test_bleu_variants_match_sacrebleu_options():
    hyps, refs = ["The Cat sat, on the mat."], ["the cat sat on the mat."]
    table = M.bleu_variants(hyps, refs).set_index("variant")["BLEU"]
    assert table["sacreBLEU: cased, 13a"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score)
    assert table["lowercased, 13a"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs], lowercase=True).score)
    assert table["lowercased, 13a"] > table["sacreBLEU: cased, 13a"]
