"""English pattern tables (data only). A literal space in a pattern means ``\\s+``.

Patterns match the whole normalized utterance (lowercase, punctuation blanked) after the
fillers below were stripped from its edges.
"""
from __future__ import annotations

from .intents import VOICES, Rule

SPACE = r"\s+"

# Stripped (repeatedly) from the start / end of an utterance before matching.
FILLERS_START = (
    r"(?:hey there|um+|uh+|er+|erm|hmm+|mm+|ah+|oh|hey|hi|ok|okay|so|well|now|alright|all right|yo|"
    r"assistant|computer|kindly|just|and|then|also|actually|excuse me|"
    r"(?:could|can|would|will|won't) you(?: (?:maybe|just|kindly|perhaps|now))?|"
    r"(?:i want|i'd like|i would like|i need) you to|would you mind|(?:do )?you think you could|"
    r"(?:go ahead|be so kind) and|let's|why don't you|try to|try and|do me a favou?r and|help me)"
)
FILLERS_END = (
    r"(?:thanks|thank you(?: very much| so much)?|for me|now|right now|if you can|if you could|"
    r"if possible|would you|will you|could you|can you|ok|okay)"
)
# Removed wherever they stand (length kept).
FILLER_WORDS = r"please|pls"
# An utterance made only of these is a hesitation, not a request: the loop ignores it.
HESITATIONS = r"um+|uh+|er+m?|hmm+|mm+|ah+|oh+|huh|uh huh|mm hmm"

_V = "(?P<v>" + "|".join(VOICES) + ")"
_L = "(?P<v>korean|english)"
VALUES = {"korean": "ko", "english": "en", **{v: v for v in VOICES}}

_NOUNS = (
    "pictures?|pics?|images?|drawings?|paintings?|sketch(?:es)?|illustrations?|photos?|photographs?|"
    "artwork|art|portraits?|renderings?|render|doodles?|graphics?|wallpaper|poster|cartoon|comic|"
    "picture book page|piece of art"
)
_ADJ = "nice|new|cool|beautiful|pretty|quick|little|small|big|cute|simple|good|great|fun|funny|lovely|fancy"
_ART = "a|an|some|one|the|a single"
_CONNECT = "of|showing|with|depicting|featuring|that shows|about|for"
_NOUN_PHRASE = f"(?:(?:{_ART}) )?(?:(?:{_ADJ}) )?(?:{_NOUNS})"
_ME = "(?: (?:me|us|for me|for us))?"
# an object that marks an instruction about the current image (not a new drawing)
_OBJ = "it|its|that|this|the|her|him|his|them|their|everything|everyone|all|my|those|these"
_SPEAK = "(?:speak|talk|read|go|say things|reply|answer)"
_BIT = "(?: (?:a (?:bit|little|little bit|tad)|much|way|even|somewhat|more|slightly))*"

RULES: tuple[Rule, ...] = (
    # --- stop (whole utterance) ---
    Rule("stop", r"(?:stop|cancel|abort|halt|pause|quiet|silence|hush|shush|enough|stop stop|no no)"
                 r"(?: (?:it|that|this|now|talking|speaking|everything|all|drawing|the drawing|the job|the jobs|it all|right now|already|please))*"),
    Rule("stop", r"(?:never mind|nevermind|forget (?:it|about it)|that's enough|that is enough|be quiet|keep quiet|shut up|"
                 r"(?:ok|okay|no|please) stop|cancel (?:that|it|everything)|stop it|quiet please)"),
    # --- translate mode (before stop-like words: "stop translating" is not stop) ---
    Rule("translate_off", r"(?:stop|end|quit|exit|leave|cancel|disable|turn off|switch off|no more|finish|pause) "
                          r"(?:the )?(?:translating|translation|translations|interpreting|translate|translator|interpreter)"
                          r"(?: mode)?(?: (?:now|what i say|for me|please))*"),
    Rule("translate_off", r"(?:the )?(?:translation|translate|translator|translating|interpreter)(?: mode)? (?:off|stop|end|done|over|disabled)"),
    Rule("translate_off", r"(?:don't|do not) translate(?: (?:anymore|any more|now))?"),
    Rule("translate_on", r"(?:start|begin|enable|turn on|switch on|activate|enter|go into|switch to|use) (?:the )?"
                         r"(?:translating|translation|translate|translator|interpreter|interpreting)(?: mode)?(?: (?:now|please))?"),
    Rule("translate_on", r"(?:the )?(?:translation|translate|translator|interpreter)(?: mode)?(?: (?:on|please|now|enabled))?"),
    Rule("translate_on", r"(?:translate|interpret) (?:what i say|what i'm saying|what i am saying|everything(?: i say)?|for me|from now on|"
                         r"my speech|me|my words)(?: (?:into english|to english|from korean|from now on|for me))*"),
    Rule("translate_on", r"(?:be|act as) (?:my|a) (?:translator|interpreter)"),
    # --- help ---
    Rule("help", r"help(?: me)?|i need help|instructions|commands|(?:list|show)(?: me)? (?:the |your )?commands"),
    Rule("help", r"what (?:can|could) (?:you|i) (?:do|say|ask(?: you)?)(?: here| for me)?|what (?:are|r) (?:the|your|my) (?:commands|options)|"
                 r"what do you do|what are you able to do|what can you help(?: me)? with|how (?:does this|do you) work|"
                 r"how do i use (?:this|you|it)"),
    # --- repeat / say ---
    Rule("repeat", r"repeat(?: (?:that|it|this|yourself|the last (?:thing|sentence|reply|answer|one)))?(?: (?:again|once more))?"),
    Rule("repeat", r"(?:say|tell me) (?:that|it) again|say again|again|once more|come again|pardon(?: me)?|sorry what|"
                   r"what did you (?:just )?say|what was that|i didn't (?:catch|hear|get) that"),
    Rule("say", r"(?:say|repeat after me|read (?:out|aloud)|read out loud|pronounce) (?P<p>.+)"),
    # --- settings ---
    Rule("setting", rf"(?:{_SPEAK}{_BIT} )?(?:slower|more slowly|slowly|less fast)|slow down{_BIT}|slow it down|not so fast|too fast|"
                    r"you(?:'re| are) (?:talking|speaking|going) too fast", "speed", "slower"),
    Rule("setting", rf"(?:{_SPEAK}{_BIT} )?(?:faster|more quickly|quicker|quickly)|speed up{_BIT}|speed it up|hurry up|too slow|"
                    r"you(?:'re| are) (?:talking|speaking|going) too slow(?:ly)?", "speed", "faster"),
    Rule("setting", rf"(?:(?:{_SPEAK}|back to|go back to) )?(?:at )?(?:(?:the|your) )?(?:normal|regular|default|usual|standard|original) (?:speed|pace)|"
                    r"reset (?:the |your )?speed|(?:speak|talk) normally", "speed", "normal"),
    Rule("setting", rf"(?:use|switch to|change to|try|pick|select|choose|go with) (?:the |your )?{_V}(?: voice)?", "voice"),
    Rule("setting", rf"(?:change|set|switch) (?:the |your )?voice to (?:the )?{_V}(?: voice)?", "voice"),
    Rule("setting", r"(?:change|switch|swap|use another|try another|try a different|use a different) (?:the |your |a |another )?voice", "voice"),
    Rule("setting", rf"(?:(?:speak|talk) (?:with|in|using) (?:the |a )?|voice )?{_V}(?: voice)?", "voice"),
    Rule("setting", rf"(?:(?:(?:answer|reply|respond|speak|talk|say things)(?: to me)? in|(?:switch|change)(?: (?:the|your))?(?: language)? to|"
                    rf"(?:set|change) (?:the |your )?language to|use|speak) )?{_L}(?: (?:from now on|now|instead|only))*", "language"),
    # --- variation (before draw: "make another version") ---
    Rule("variation", r"(?:(?:make|draw|do|give me|create|generate|show me|paint|try|can i (?:have|get)|i want) )?(?:me )?"
                      r"(?:another|one more|a different|a new|a second|a similar)(?: (?:one|version|variation|image|picture|drawing|take|try|"
                      r"like (?:that|this|it|the last one)|just like (?:that|this|it)|similar to (?:that|this|it)|of (?:that|this|it|those|these)|again))*"),
    Rule("variation", r"(?:(?:make|create|generate|give me|do|draw|show me) )?(?:a |another )?(?:variation|variant|version)(?: of (?:that|this|it|the last one))?|"
                      r"something similar|a similar one|similar one|(?:one )?more like (?:that|this|it)|"
                      r"(?:make|draw|do|paint) (?:it|that|one) again|(?:try|draw it|redraw it|redo it) again|redraw(?: it)?|redo it"),
    # --- draw (prompt after the command words; options were blanked before) ---
    Rule("draw", rf"(?:draw|paint|sketch|illustrate|doodle){_ME}(?: (?P<n>{_NOUN_PHRASE})(?: (?:{_CONNECT}))?| (?:a|an|some) (?:{_CONNECT})| (?:{_CONNECT}))? (?P<p>.+)", bare=True),
    Rule("draw", rf"(?:make|create|generate|render|produce|design|do|get|give|show|bring|send|paint|draw|whip up|come up with|dream up){_ME}"
                 rf"(?: (?P<n>{_NOUN_PHRASE})(?: (?:{_CONNECT}))?| (?:a|an|some) (?:{_CONNECT})) (?P<p>.+)"),
    Rule("draw", rf"(?:i want|i'd like|i would like|i need|i wanna see|i want to see|i'd like to see|i'd love|can i (?:have|get|see)|"
                 rf"could i (?:have|get|see)|let me see|let's see|let's have|how about)(?: (?P<n>{_NOUN_PHRASE}))? (?:{_CONNECT}) (?P<p>.+)"),
    Rule("draw", rf"(?P<n>(?:a|an|some) (?:(?:{_ADJ}) )?(?:{_NOUNS})) (?:{_CONNECT}) (?P<p>.+)"),
    # --- edit (the spoken region was blanked before) ---
    Rule("edit", rf"(?:edit|modify|fix|adjust|update|retouch|alter|tweak) (?:it|that|this|(?:the|my) (?:last |previous |current |latest )?(?:{_NOUNS}|one))"
                 r"(?: (?:so that|so|and|to|by|like this|like so))?(?: (?P<p>.*))?"),
    Rule("edit", r"(?P<p>(?:add|put|place|insert|stick|give(?! me )|change|replace|swap|remove|erase|delete|get rid of|take out|move|color|colour|recolou?r|"
                 r"fill|brighten|darken|blur|sharpen|crop) .+)"),
    Rule("edit", rf"(?P<p>(?:make|turn|let|have|set) (?:{_OBJ}) .+)"),
)

# Spoken draw options, blanked from the prompt: (pattern, key, value). Checked in order.
OPTIONS: tuple[tuple[str, str, str], ...] = (
    (r"(?:(?:in|with|at|as) )?(?:(?:a|an) )?(?:high|higher|hd|best|highest|top|maximum|max|ultra|great|full|premium) (?:quality|detail|resolution|res|definition)", "quality", "high"),
    (r"(?:in|at) (?:hd|4k|high definition|high res)|high resolution|hi res", "quality", "high"),
    (r"(?:(?:in|with|at|as) )?(?:(?:a|an) )?(?:low|lower|lowest|draft|fast|quick|cheap|minimum|rough) (?:quality|detail|resolution|res)", "quality", "low"),
    (r"(?:(?:as|in) )?(?:a |an )?(?:quick|rough|fast) sketch", "quality", "low"),
    (r"(?:(?:in|with|at) )?(?:medium|standard|normal|average) quality", "quality", "medium"),
    (r"(?:(?:in|with) )?(?:a |an )?(?:natural|realistic|realistic looking|natural looking) (?:style|look|way|mode)|naturally styled", "style", "natural"),
    (r"(?:(?:in|with) )?(?:a |an )?(?:vivid|vibrant|dramatic|hyper real) (?:style|look|way|mode)|(?:in )?vivid mode", "style", "vivid"),
    (r"(?:(?:in|as) )?(?:a )?(?:wide|widescreen|landscape|horizontal) (?:format|orientation|aspect(?: ratio)?|shape|layout|mode|image|picture)|"
     r"(?:in|as) (?:landscape|widescreen)|(?:make it|and make it) wide|16 by 9|16 9", "size", "wide"),
    (r"(?:(?:in|as) )?(?:a )?(?:tall|portrait|vertical) (?:format|orientation|aspect(?: ratio)?|shape|layout|mode)|"
     r"(?:in|as) portrait|(?:make it|and make it) tall|9 by 16|9 16", "size", "tall"),
    (r"(?:(?:in|as) )?(?:a )?square(?: (?:format|shape|image|picture|layout|orientation|aspect))|(?:in|as) (?:a )?square|(?:make it|and make it) square|1 by 1", "size", "square"),
)
# A comma-separated piece of the utterance that is only one of these words is an option too:
# "paint a sunset, natural style, wide".
SEGMENT_OPTIONS: dict[str, tuple[str, str]] = {
    "wide": ("size", "wide"), "landscape": ("size", "wide"), "widescreen": ("size", "wide"), "horizontal": ("size", "wide"),
    "tall": ("size", "tall"), "portrait": ("size", "tall"), "vertical": ("size", "tall"), "square": ("size", "square"),
    "natural": ("style", "natural"), "vivid": ("style", "vivid"), "realistic": ("style", "natural"),
    "hd": ("quality", "high"), "high quality": ("quality", "high"), "low quality": ("quality", "low"), "quick": ("quality", "low"),
}

# Region leftovers: words before / after a spoken region that go with it ("in the", "corner").
REGION_BEFORE = r"(?:\b(?:in|on|at|to|into|onto|near|around|toward|towards|over|across|along|by)(?: (?:the|her|his|its|their|my|this|that))?|\bthe) $"
REGION_AFTER = r"(?: (?:corner|side|part|area|section|edge|half|bit|portion|region))*(?: of (?:the (?:picture|image|photo|drawing|painting)|it|the frame|her|his|the sky))?"

# Stop words for the barge-in check (a short utterance containing one of them).
STOP_WORDS = r"\b(?:stop|cancel|quiet|shut up|enough|never mind|nevermind|hush|shush|silence|abort)\b"
NOT_STOP = r"\b(?:translat\w*|interpret\w*|don't|do not|can't|cannot|won't|didn't)\b"
