// Host-JVM driver for edgepack's tests of the generated Android project: loads the project's native library
// (built with the host compiler) with System.load and runs the project's Android-free Kotlin (manifest
// parsing, EdgepackSession, results, ScreenMapping) on camera frames described by a cases file. Prints one
// JSON object per case; the Python test compares them with edgepack's own Python runtime.
import edgepack.runtime.BundleManifest
import edgepack.runtime.Classification
import edgepack.runtime.Detections
import edgepack.runtime.EdgepackException
import edgepack.runtime.EdgepackSession
import edgepack.runtime.FpsMeter
import edgepack.runtime.Json
import edgepack.runtime.Mask
import edgepack.runtime.ScreenMapping
import edgepack.runtime.toSource
import java.io.File
import java.nio.ByteBuffer

fun main(args: Array<String>) {
    System.load(args[0])
    for (line in File(args[1]).readLines()) {
        if (line.isBlank()) continue
        val f = line.split('\t')
        val out = StringBuilder("{\"name\":${q(f[1])}")
        val body = StringBuilder() // dropped when the case fails part-way
        try {
            when (f[0]) {
                "frame" -> frame(f, body)
                "json" -> body.append(",\"value\":").append(dump(Json.parse(File(f[2]).readText())))
                "fps" -> fps(body)
                else -> throw IllegalArgumentException("unknown case kind ${f[0]}")
            }
            out.append(body).append(",\"ok\":true}")
        } catch (e: EdgepackException) {
            out.append(",\"ok\":false,\"error\":${q(e.message ?: "")}}")
        }
        println(out)
    }
}

// frame <name> <root> <engine> <frame file> w h yOff yLen yRow uOff uLen uRow vOff vLen vRow pixel rot mirror viewW viewH
fun frame(f: List<String>, out: StringBuilder) {
    val root = f[2]
    val n = f.subList(5, f.size).map { it.toInt() }
    val (w, h) = n[0] to n[1]
    val manifest = BundleManifest.parse(File(root, "manifest.json").readText())
    val artifact = manifest.artifact(f[3])
    manifest.verify(artifact) { File(root, it).inputStream() }
    val bytes = File(f[4]).readBytes()
    val base = ByteBuffer.allocateDirect(bytes.size).put(bytes)
    fun plane(off: Int, len: Int): ByteBuffer = base.duplicate().apply { position(off); limit(off + len) }.slice()
    val rotation = n[12]
    val mirror = n[13] != 0
    EdgepackSession.open(manifest, artifact, root, System.getenv("EDGEPACK_LITERT_DIR") ?: "", 1).use { s ->
        val r = s.runYuv(plane(n[2], n[3]), plane(n[5], n[6]), plane(n[8], n[9]), w, h, n[4], n[7], n[10], n[11], rotation, mirror)
        val map = ScreenMapping(w, h, rotation, mirror, n[14], n[15])
        val g = r.geometry
        out.append(",\"task\":${q(manifest.task)},\"description\":${q(s.description)}")
        out.append(",\"scale\":[${g.scaleX},${g.scaleY}],\"pad\":[${g.padX},${g.padY}],\"out\":[${g.outWidth},${g.outHeight}]")
        val pts = listOf(0.0 to 0.0, g.outWidth.toDouble() to g.outHeight.toDouble(), g.outWidth / 2.0 to g.outHeight / 3.0)
        out.append(",\"toSource\":[").append(pts.joinToString(",") { (x, y) -> g.toSource(x, y).joinToString(",", "[", "]") }).append("]")
        out.append(",\"upright\":[${map.uprightWidth},${map.uprightHeight}],\"screenScale\":${map.scale}")
        out.append(",\"screenOffset\":[${map.offsetX},${map.offsetY}]")
        when (r) {
            is Classification -> out.append(",\"ids\":${r.classIds},\"scores\":${r.scores},\"labels\":${r.labels.map(::q)}")
            is Detections -> {
                out.append(",\"boxes\":[").append(r.items.joinToString(",") { "[${it.x1},${it.y1},${it.x2},${it.y2}]" }).append("]")
                out.append(",\"scores\":${r.items.map { it.score }},\"classIds\":${r.items.map { it.classId }}")
                out.append(",\"labels\":${r.items.map { q(it.label) }}")
                out.append(",\"uprightBoxes\":[").append(r.items.joinToString(",") {
                    val a = map.upright(it.x1.toDouble(), it.y1.toDouble())
                    val b = map.upright(it.x2.toDouble(), it.y2.toDouble())
                    "[${minOf(a[0], b[0])},${minOf(a[1], b[1])},${maxOf(a[0], b[0])},${maxOf(a[1], b[1])}]"
                }).append("]")
                out.append(",\"screenBoxes\":[").append(r.items.joinToString(",") {
                    map.boxToScreen(it.x1, it.y1, it.x2, it.y2).joinToString(",", "[", "]")
                }).append("]")
            }
            is Mask -> {
                out.append(",\"maskW\":${r.width},\"maskH\":${r.height},\"maskInSource\":${r.inSource}")
                out.append(",\"mask\":\"").append(r.classes.joinToString("") { "%02x".format(it) }).append("\"")
                out.append(",\"maskCorners\":${map.maskCorners(r).toList()},\"counts\":${r.counts().map { q(it.first + "=" + it.second) }}")
            }
        }
    }
}

fun fps(out: StringBuilder) {
    val m = FpsMeter(window = 4)
    // frames every 25 ms with latencies 10, 30, 20, 40, 50 ms: the window keeps the last 4
    listOf(10L, 30L, 20L, 40L, 50L).forEachIndexed { i, ms -> m.add(i * 25_000_000L, ms * 1_000_000L) }
    out.append(",\"fps\":${m.fps},\"latencyMs\":${m.latencyMs}")
}

fun q(s: String): String = buildString {
    append('"')
    for (c in s) {
        when {
            c == '"' -> append("\\\"")
            c == '\\' -> append("\\\\")
            c < ' ' || c.code > 126 -> append("\\u%04x".format(c.code))
            else -> append(c)
        }
    }
    append('"')
}

fun dump(v: Any?): String = when (v) {
    null -> "null"
    is String -> q(v)
    is Map<*, *> -> v.entries.joinToString(",", "{", "}") { "${q(it.key.toString())}:${dump(it.value)}" }
    is List<*> -> v.joinToString(",", "[", "]") { dump(it) }
    else -> v.toString()
}
