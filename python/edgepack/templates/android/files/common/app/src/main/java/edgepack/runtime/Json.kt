// A small JSON reader for the bundle's manifest.json (no android.* and no library, so the same code runs in
// the app and in host unit tests). Objects become Map<String, Any?> (insertion order kept), arrays List<Any?>,
// numbers Double (or Long when they are integers that fit), plus String, Boolean and null.
package edgepack.runtime

object Json {
    fun parse(text: String): Any? {
        val p = Parser(text)
        p.skipSpace()
        val v = p.value()
        p.skipSpace()
        if (!p.atEnd()) throw p.error("unexpected text after the JSON value")
        return v
    }

    private class Parser(val s: String) {
        var i = 0

        fun atEnd() = i >= s.length

        fun error(what: String) = EdgepackException("manifest.json is not valid JSON: $what at character $i")

        fun skipSpace() {
            while (i < s.length && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++
        }

        fun value(): Any? {
            if (atEnd()) throw error("unexpected end")
            return when (val c = s[i]) {
                '{' -> obj()
                '[' -> array()
                '"' -> string()
                't' -> literal("true", true)
                'f' -> literal("false", false)
                'n' -> literal("null", null)
                else -> if (c == '-' || c in '0'..'9') number() else throw error("unexpected '$c'")
            }
        }

        fun literal(word: String, v: Any?): Any? {
            if (!s.startsWith(word, i)) throw error("expected $word")
            i += word.length
            return v
        }

        fun obj(): Map<String, Any?> {
            val out = LinkedHashMap<String, Any?>()
            i++ // {
            skipSpace()
            if (i < s.length && s[i] == '}') {
                i++
                return out
            }
            while (true) {
                skipSpace()
                if (atEnd() || s[i] != '"') throw error("expected a key")
                val key = string()
                skipSpace()
                if (atEnd() || s[i] != ':') throw error("expected ':'")
                i++
                skipSpace()
                out[key] = value()
                skipSpace()
                if (atEnd()) throw error("unterminated object")
                when (s[i]) {
                    ',' -> i++
                    '}' -> { i++; return out }
                    else -> throw error("expected ',' or '}'")
                }
            }
        }

        fun array(): List<Any?> {
            val out = ArrayList<Any?>()
            i++ // [
            skipSpace()
            if (i < s.length && s[i] == ']') {
                i++
                return out
            }
            while (true) {
                skipSpace()
                out.add(value())
                skipSpace()
                if (atEnd()) throw error("unterminated array")
                when (s[i]) {
                    ',' -> i++
                    ']' -> { i++; return out }
                    else -> throw error("expected ',' or ']'")
                }
            }
        }

        fun string(): String {
            val b = StringBuilder()
            i++ // opening quote
            while (true) {
                if (atEnd()) throw error("unterminated string")
                val c = s[i++]
                when {
                    c == '"' -> return b.toString()
                    c == '\\' -> {
                        if (atEnd()) throw error("unterminated escape")
                        when (val e = s[i++]) {
                            '"' -> b.append('"')
                            '\\' -> b.append('\\')
                            '/' -> b.append('/')
                            'b' -> b.append('\b')
                            'f' -> b.append('\u000C')
                            'n' -> b.append('\n')
                            'r' -> b.append('\r')
                            't' -> b.append('\t')
                            'u' -> {
                                if (i + 4 > s.length) throw error("short \\u escape")
                                val code = s.substring(i, i + 4).toIntOrNull(16) ?: throw error("bad \\u escape")
                                b.append(code.toChar())
                                i += 4
                            }
                            else -> throw error("bad escape \\$e")
                        }
                    }
                    c < ' ' -> throw error("control character in a string")
                    else -> b.append(c)
                }
            }
        }

        fun number(): Any {
            val start = i
            if (s[i] == '-') i++
            while (i < s.length && (s[i].isDigit() || s[i] in ".eE+-")) i++
            val text = s.substring(start, i)
            if (text.none { it == '.' || it == 'e' || it == 'E' }) text.toLongOrNull()?.let { return it }
            return text.toDoubleOrNull() ?: throw error("bad number '$text'")
        }
    }
}
