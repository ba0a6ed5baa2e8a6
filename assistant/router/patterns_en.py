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

# --- everyday skills (issue 16): durations and clock times are cut loosely here and parsed by
# the skills (assistant/skills/timers.py), which ask again when they cannot read them.
_UNIT = r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?)"
_DUR = rf"(?P<v>(?:[\w.']+ ){{1,5}}?{_UNIT}(?: (?:and )?(?:a half|a quarter|(?:[\w.']+ ){{1,3}}?{_UNIT}))?)"
_DUR_ADJ = rf"(?P<v>(?:[\w.']+ ){{1,3}}?(?:second|sec|minute|min|hour|hr))"  # "a five minute timer"
_NAME = r"(?P<p>[\w']+(?: [\w']+)?)"
_CALLED = r"(?: (?:called|named|labell?ed|for|to|on)(?: the| my)? (?P<p>.+))?"
_SET = r"(?:set|start|make|create|put on|add|begin|give me|run)(?: me| up)?(?: (?:a|an|the|another|one more|one|new|a new))?"
_TIMERS = r"(?:timers?|alarms?|timers and alarms|reminders?)"
_PICTURE = r"(?:picture|image|drawing|photo|one|version|painting|edit)"

EVERYDAY: tuple[Rule, ...] = (
    # --- timers and alarms (before stop: "stop the alarm", "cancel the pasta timer") ---
    Rule("timer_cancel", rf"(?:cancel|stop|delete|remove|clear|turn off|kill|end|switch off|get rid of) (?:all|every)(?: (?:the|my|of the|of my))? {_TIMERS}", value="all"),
    Rule("timer_cancel", rf"(?:cancel|stop|delete|remove|clear|turn off|kill|end|switch off|get rid of)(?: (?:the|my|that))?(?: {_NAME})? {_TIMERS}"),
    Rule("timer_list", rf"(?:what|which|how many) {_TIMERS}(?: (?:do i have|have i got|are (?:there|running|set|on|left)|did i set|is (?:there|running|set)))?(?: (?:running|set|going|left|now|at the moment))?|"
                       rf"(?:list|show|tell me|read|check)(?: me)?(?: all)?(?: (?:my|the|all|all my|all the))? {_TIMERS}|"
                       rf"do i have any {_TIMERS}(?: (?:running|set|going|left))?|any {_TIMERS}(?: (?:running|set|left))?|"
                       rf"how (?:much|long)(?: time)?(?: is)? left(?: on (?:the |my )?(?:{_NAME} )?(?:timer|alarm))?"),
    Rule("timer_set", rf"{_SET}(?: new)? timer (?:for|of|on|at) {_DUR}{_CALLED}"),
    Rule("timer_set", rf"{_SET}(?: new)? {_NAME} timer (?:for|of|on) {_DUR}"),
    Rule("timer_set", rf"{_SET} {_DUR_ADJ}(?: long)?(?: {_NAME})? timer"),
    Rule("timer_set", rf"{_SET} {_DUR_ADJ}(?: long)? timer{_CALLED}"),
    Rule("timer_set", rf"(?:a |one )?{_DUR_ADJ} timer{_CALLED}"),
    Rule("timer_set", rf"timer(?: for)? {_DUR}{_CALLED}"),
    Rule("timer_set", rf"(?:remind me|tell me|let me know|ping me|alert me)(?: (?:in|after)) {_DUR}(?: (?:to|that|about|for) (?P<p>.+))?"),
    Rule("alarm_set", rf"{_SET}(?: {_NAME})? alarm (?:for|at|to) (?P<v>.+)"),
    Rule("alarm_set", r"(?:wake me(?: up)?|alarm) (?:at|for) (?P<v>.+)"),
    # --- time and date ---
    Rule("clock", r"(?:what|what's|whats) (?:is )?the time(?: (?:now|right now|here|please))?|what time is it(?: (?:now|right now|here|please))?|"
                  r"(?:tell|give) me the time|(?:do you know|can you tell me|could you tell me) (?:what time it is|the time)|"
                  r"(?:the |current )?time(?: please)?|what time do you have|how late is it", value="time"),
    Rule("clock", r"(?:what|what's|whats) (?:is )?(?:the |today's |todays )?date(?: today)?|what(?:'s| is)? today(?:'s date)?|"
                  r"what day is (?:it|today)(?: today)?|which day is (?:it|today)|what(?:'s| is) the day(?: today)?|"
                  r"(?:tell|give) me the date|what's today|today's date|(?:the )?date(?: please)?", value="date"),
    # --- volume ---
    Rule("volume", rf"(?:(?:speak|talk|be|say it|play|make it|go){_BIT} )?(?:louder|more loudly)|(?:turn|crank|pump)(?: (?:it|the volume|the sound|yourself))? up{_BIT}|"
                   r"(?:volume|sound) up|(?:increase|raise|boost) (?:the )?(?:volume|sound)|speak up|i can't hear you|you're too quiet|too quiet", value="louder"),
    Rule("volume", rf"(?:(?:speak|talk|be|say it|play|make it|go){_BIT} )?(?:quieter|softer|more quietly|more softly|less loud(?:ly)?)|(?:turn|bring)(?: (?:it|the volume|the sound|yourself))? down{_BIT}|"
                   r"(?:volume|sound) down|(?:decrease|lower|reduce) (?:the )?(?:volume|sound)|(?:you're |it's )?too loud", value="quieter"),
    Rule("volume", r"(?:normal|default|regular|usual) volume|reset (?:the )?volume|(?:volume|sound) (?:back )?to normal", value="normal"),
    # --- the pictures so far ---
    Rule("undo", rf"undo(?: (?:that|it|this|the (?:last )?(?:edit|change)))?|revert(?: (?:that|it|the (?:last )?(?:edit|change)))?|take (?:that|it) back|"
                 rf"go back(?: to (?:the )?(?:previous|last|old|original|earlier) {_PICTURE})?|back to the (?:previous|original|old) {_PICTURE}"),
    Rule("show_image", rf"show(?: me)? (?:the |my |your )?(?:last|latest|current|newest|most recent)? ?{_PICTURE}(?: (?:again|you (?:just )?(?:made|drew)))?|"
                       r"(?:which|what) (?:picture|image) is (?:this|that|it|the last one)|what did you (?:just )?(?:draw|make|paint)|show it(?: (?:to me|again))?|let me see it"),
    Rule("previous_image", rf"(?:use|take|pick|choose|go to|go with|edit|switch to)(?: the)? (?:{_PICTURE} )?before(?: (?:that|it|this|the last one))?|"
                           rf"(?:use|take|pick|choose|go to|go with|edit|switch to) the (?:previous|earlier|one before|other) {_PICTURE}|the one before(?: that| it)?"),
)

RULES: tuple[Rule, ...] = EVERYDAY + (
    # --- stop (whole utterance) ---
    # A lone "stop" clipped or mumbled reaches Whisper's tiny.en as a near-homophone ("stove.",
    # "stuff." on a real speech_commands clip); said alone to an assistant, those mean stop.
    Rule("stop", r"(?:stove|stuff|stopped|stops|stap|stahp|stob)"),
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
