"""Korean pattern tables (data only). A literal space in a pattern means ``\\s*``: Whisper's
Korean spacing varies ("그려 줘" / "그려줘"), so every word boundary is optional.

Patterns match the whole normalized utterance after the fillers were stripped from its edges.
Object particles (을/를) left on a prompt are removed by the router (batchim-aware).
"""
from __future__ import annotations

from .intents import VOICES, Rule

SPACE = r"\s*"

FILLERS_START = (
    r"(?:음+|으음|어+|아+|저기요|저기|저|그+|야|자|혹시|제발|그럼|그러면|이제|이제부터|헤이|오케이|좋아|근데|그리고|"
    r"있잖아|비서야|어시스턴트)"
)
FILLERS_END = r"(?:좀|요|제발|부탁해요|부탁해|부탁드려요|부탁드립니다|부탁합니다|감사합니다|고마워요|고마워)"
FILLER_WORDS = r"좀|제발"

# Polite / request endings after a verb stem: 그려(줘|주세요|줄래요|줄 수 있어?...)
REQ = (
    r"(?: 줘요| 줘| 주세요| 주실래요| 주실래| 주시겠어요| 주시겠어| 주실 수 있어요| 주실 수 있나요| 주시면 좋겠어요| 줄래요| 줄래|"
    r" 줄 수 있어요| 줄 수 있어| 줄 수 있니| 줄 수 있나요| 줄 수 있을까| 주라| 주면 좋겠어| 줘 봐| 봐 줘| 봐 줄래| 봐요| 봐| 보세요| 주겠니)?(?: 요)?"
)

VOICE_ALIASES = {
    "노바": "nova", "오닉스": "onyx", "앨로이": "alloy", "알로이": "alloy", "애쉬": "ash", "애시": "ash",
    "발라드": "ballad", "코랄": "coral", "코럴": "coral", "에코": "echo", "페이블": "fable", "세이지": "sage",
    "쉬머": "shimmer", "시머": "shimmer", "버스": "verse", "벌스": "verse", "마린": "marin", "시더": "cedar", "씨더": "cedar",
}
VALUES = {
    "한국어": "ko", "한국말": "ko", "한글": "ko", "korean": "ko", "영어": "en", "english": "en",
    **{v: v for v in VOICES}, **VOICE_ALIASES,
}
_V = "(?P<v>" + "|".join(sorted((*VOICES, *VOICE_ALIASES), key=len, reverse=True)) + ")"
_L = "(?P<v>한국어|한국말|한글|영어|korean|english)"
_MORE = "(?:(?:좀|조금|더|좀 더|조금 더|약간|훨씬|많이) )*"
_SAYV = "(?: (?:말해|말씀해|얘기해|이야기해|읽어|해|말하기|말하세요|말씀하세요|대답해))?"
_DRAWV = "(?:그려|그리세요|그려라)"
_PIC = "그림|사진|이미지|일러스트|초상화|삽화|포스터|만화|캐릭터|그림 하나|사진 하나"
_EDITV = (
    "바꿔|바꾸어|바꿔 봐|바꿔 놔|변경해|추가해|추가|넣어|넣어 봐|붙여|지워|없애|빼|칠해|색칠해|달아|씌워|올려|얹어|그려 넣어|"
    "입혀|고쳐|꾸며|옮겨|치워|더해|수정해"
)

RULES: tuple[Rule, ...] = (
    # --- translate mode first ("번역 그만" is not stop) ---
    Rule("translate_off", "(?:번역|통역)(?: 기)?(?: 모드)?(?: 를| 을| 는)? (?:그만(?: 해| 하자| 둬| 하세요)?|중지(?: 해)?|중단(?: 해)?|종료(?: 해)?|"
                          "끝(?: 내| 내기)?|꺼|끄기|끄자|끄세요|멈춰|해제(?: 해)?|취소(?: 해)?|오프|off|안 해도 돼|하지 마(?: 세요)?)" + REQ),
    Rule("translate_on", "(?:(?:내|제) 말(?: 을)? |(?:내|제)가 하는 말(?: 을)? |지금부터 )?(?:영어로 )?(?:번역|통역)(?: 기)?(?: 모드)?(?: 를| 을| 로)?"
                         "(?: (?:켜|켜기|시작|시작해|온|on|해|하자|해 봐|모드로 바꿔|부탁해|부탁해요|부탁드려요|모드 켜))?" + REQ),
    # --- stop ---
    Rule("stop", "(?:이제 )?(?:그만(?: 해| 둬| 하세요| 말해| 해라)?|멈춰|멈추세요|멈춰요|정지(?: 해)?|스톱|스탑|취소(?: 해| 할게)?|조용히(?: 해| 하세요)?|"
                 "조용|됐어|됐어요|됐다|닥쳐|중지(?: 해)?|중단(?: 해)?|말하지 마(?: 세요)?)" + REQ),
    # --- help ---
    Rule("help", "(?:도움말|도움|사용법|명령어|도움이 필요해|도와)(?: (?:알려|보여))?" + REQ),
    Rule("help", "(?:너는 |넌 )?(?:뭘|뭐|무엇을|뭐를|무얼) 할 수 (?:있어|있어요|있니|있나요|있지|있는데|있는지(?: 알려)?)" + REQ),
    Rule("help", "(?:너는 |넌 )?할 수 있는 (?:게|것이|거|것|일이) (?:뭐야|뭐예요|뭐에요|뭐 있어|뭐가 있어|뭐 있어요|뭐가 있어요|뭔데|뭐지|뭐니)"),
    Rule("help", "어떻게 (?:써|사용해|쓰는 거야|써요|사용해요|사용하나요|쓰나요|쓰는 거예요)"),
    # --- repeat / say ---
    Rule("repeat", "(?:다시|한 번 더|다시 한 번|방금 한 말|방금 말한 거)(?: 만)?(?: (?:말해|말씀해|얘기해|이야기해|해|들려|읽어))?" + REQ),
    Rule("repeat", "뭐라고(?: (?:했어|했어요|하셨어요|했니|요))?|(?:반복|되풀이)(?: 해)?" + REQ),
    Rule("say", "따라 (?:해|말해|해 봐|하세요|해 줘|해 보세요)(?: 요)? (?P<p>.+)"),
    Rule("say", "(?P<p>.+)라고 (?:말해|해|얘기해|말씀해|말하세요|해 봐|말해 봐)" + REQ),
    # --- settings (before say/edit: "영어로 말해줘", "목소리를 nova로 바꿔줘") ---
    Rule("setting", _MORE + "(?:천천히|느리게|느릿느릿|여유 있게)" + _SAYV + REQ, "speed", "slower"),
    Rule("setting", "(?:말 |말하는 )?속도(?: 를)? (?:줄여|낮춰|늦춰)" + REQ + "|너무 빨라(?: 요)?", "speed", "slower"),
    Rule("setting", _MORE + "(?:빨리|빠르게)" + _SAYV + REQ, "speed", "faster"),
    Rule("setting", "(?:말 |말하는 )?속도(?: 를)? (?:올려|높여|빠르게 해)" + REQ + "|너무 느려(?: 요)?", "speed", "faster"),
    Rule("setting", "(?:보통|원래|기본|정상|평소)(?: 의)? (?:속도|빠르기)(?: 로| 으로)?(?: (?:말해|해|돌려|바꿔|돌아가))?" + REQ, "speed", "normal"),
    Rule("setting", "속도(?: 를)? (?:원래대로|보통으로|기본으로|원래로)(?: (?:해|돌려|바꿔))?" + REQ, "speed", "normal"),
    Rule("setting", "(?:목소리|음성|보이스)(?: 를| 을)? " + _V + "(?: 로| 으로)?(?: (?:바꿔|변경해|해|설정해|골라|써))?" + REQ, "voice"),
    Rule("setting", _V + "(?: 목소리| 음성| 보이스)(?: 로| 으로| 를| 을)?(?: (?:바꿔|변경해|해|말해|설정해|써))?" + REQ, "voice"),
    Rule("setting", "(?:앞으로 )?" + _L + "(?: 로| 으로) (?:대답해|답해|말해|말씀해|얘기해|이야기해|답변해|응답해|바꿔|해|대답하세요|말하세요)" + REQ, "language"),
    Rule("setting", "(?:언어|말)(?: 를| 을)? " + _L + "(?: 로| 으로) (?:바꿔|변경해|설정해|해)" + REQ, "language"),
    # --- variation (before draw: "다른 버전으로 하나 더 그려줘") ---
    Rule("variation", "(?:(?:이거|그거|이것|방금 거|방금 그림)(?: 랑| 과| 하고) )?(?:비슷한|이런|그런|같은|다른) (?:거|것|걸|그림|버전|느낌|스타일|걸로|것으로)"
                      "(?: 으로| 로)?(?: (?:하나|한 장|한 개|하나만))?(?: 더)?(?: (?:그려|만들어|보여|해|줘))?" + REQ),
    Rule("variation", "(?:하나|한 장|한 개) 더(?: (?:그려|만들어|보여|해|줘))?" + REQ),
    Rule("variation", "(?:또|다시) (?:하나|그려|만들어)" + REQ),
    Rule("variation", "(?:변형|변주|베리에이션|바리에이션)(?: 을| 를)?(?: (?:만들어|해|그려|보여))?" + REQ),
    # --- draw (options were blanked before) ---
    Rule("draw", "(?P<n>그림|사진|이미지)(?: 을| 를)?(?: (?:하나|한 장))? (?:그려|만들어)" + REQ + "(?: (?P<p>.+))?"),
    Rule("draw", "(?P<p>.+?) (?:의 )?(?P<n>" + _PIC + ")(?: 을| 를)?(?: (?:하나|한 장|한 개))? "
                 "(?:그려|그리세요|그려라|만들어|생성해|보여|그려서 보여|만들어서 보여)" + REQ),
    Rule("draw", "(?P<p>.+) " + _DRAWV + REQ, bare=True),
    # --- edit (the spoken region was blanked before) ---
    Rule("edit", "(?:(?:그림|이미지|사진|이거|그거|이 그림|그 그림|방금 그림|마지막 그림|방금 그린 그림)(?: 을| 를)? )?"
                 "(?:수정|편집|변경)(?: 해| 하자| 해 봐)?" + REQ + "(?: (?P<p>.+))?"),
    Rule("edit", "(?:그림|이미지|사진|이거|그거)(?: 을| 를)? 고쳐" + REQ + "(?: (?P<p>.+))?"),
    Rule("edit", "(?P<p>.+ (?:" + _EDITV + "))" + REQ),
    Rule("edit", "(?P<p>.+ (?:으로|로|게) (?:만들어|해))" + REQ),
)

# Spoken draw options: (pattern, key, value). Checked in order; longer phrases first.
OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("(?:고화질|고품질|고해상도|최고 화질|최고 품질|높은 화질|높은 품질)(?: 로| 으로| 의| 로 된)?", "quality", "high"),
    ("(?:저화질|저품질|낮은 화질|낮은 품질|빠르게 대충|대충|간단하게|스케치로)(?: 로| 으로| 의)?", "quality", "low"),
    ("(?:자연스러운|사실적인)(?: 스타일| 화풍| 느낌)(?: 로| 으로| 의)?|자연스럽게", "style", "natural"),
    ("(?:생생한|선명한|비비드한|강렬한)(?: 스타일| 화풍| 색감)(?: 로| 으로| 의)?|생생하게|비비드하게", "style", "vivid"),
    ("가로로 (?:넓게|길게|긴)|가로 (?:방향|형식|모드|비율)(?: 으로| 로)?|가로로|와이드(?: 화면| 사이즈)?(?: 로| 으로)|넓은 화면으로", "size", "wide"),
    ("세로로 (?:길게|긴)|세로 (?:방향|형식|모드|비율)(?: 으로| 로)?|세로로", "size", "tall"),
    ("(?:정사각형|정방형)(?: 모양)?(?: 으로| 로| 의)?", "size", "square"),
)
SEGMENT_OPTIONS: dict[str, tuple[str, str]] = {}

# Region leftovers: "왼쪽 위(쪽|구석)에(다가)", "그림의 왼쪽 위에".
REGION_BEFORE = r"(?:(?:그림|사진|이미지|화면)\s*(?:의|에서)\s*)$"
REGION_AFTER = r"^\s*(?:(?:쪽|구석|부분|편|코너|모서리|끝|가장자리|방향)\s*)?(?:에다가|에다|에서|에는|에도|에|쪽에|쪽으로|으로|로)"
REGION_AFTER_IS_LOCATIVE = True  # a region counts as a place only with one of those particles

STOP_WORDS = r"(?:그만|멈춰|멈추|정지|조용히|조용|취소|스톱|스탑|닥쳐|중지|됐어)"
NOT_STOP = r"(?:번역|통역)"
