// Typed results, like edgepack's Python ones (Classification, Detections, Mask). No android.* here.
package edgepack.runtime

sealed interface EdgepackResult {
    /** Where the frame went in the model input; maps model-input points back to the camera buffer. */
    val geometry: Geometry
}

/** Top-k classes, best first. */
class Classification(
    val classIds: List<Int>,
    val scores: List<Float>,
    val labels: List<String>,
    override val geometry: Geometry,
) : EdgepackResult {
    override fun toString() = labels.indices.joinToString(", ") { "${labels[it]} ${"%.3f".format(scores[it])}" }
}

/** One box in camera-buffer pixels (x1 <= x2, y1 <= y2, the unrotated ImageProxy's coordinates). */
class Detection(val x1: Float, val y1: Float, val x2: Float, val y2: Float, val score: Float, val classId: Int, val label: String)

class Detections(val items: List<Detection>, override val geometry: Geometry) : EdgepackResult {
    val size: Int get() = items.size

    override fun toString() = if (items.isEmpty()) "no detections" else items.joinToString("; ") {
        "${it.label} ${"%.2f".format(it.score)} [${it.x1.toInt()}, ${it.y1.toInt()}, ${it.x2.toInt()}, ${it.y2.toInt()}]"
    }
}

/**
 * Per-pixel class ids, `height` rows of `width`. With `inSource` the grid is the camera buffer's pixels;
 * otherwise (rotated, mirrored or cropped frames) it is the model output's grid over the model input;
 * `ScreenMapping.maskCorners` places either on the screen.
 */
class Mask(
    val classes: ByteArray,
    val width: Int,
    val height: Int,
    val inSource: Boolean,
    val labels: List<String>,
    override val geometry: Geometry,
) : EdgepackResult {
    fun classAt(x: Int, y: Int): Int = classes[y * width + x].toInt() and 0xff

    /** Pixels per class present, most first. */
    fun counts(): List<Pair<String, Int>> {
        val n = IntArray(256)
        for (b in classes) n[b.toInt() and 0xff]++
        return n.indices.filter { n[it] > 0 }.map { label(labels, it) to n[it] }.sortedByDescending { it.second }
    }

    override fun toString() = "mask ${width}x$height: " + counts().joinToString(", ") { "${it.first} ${it.second}" }
}

fun label(labels: List<String>, i: Int): String = if (i in labels.indices) labels[i] else i.toString()

/** NativeResult + the bundle's task and labels -> the typed result. */
fun toResult(task: String, labels: List<String>, r: NativeResult): EdgepackResult = when (task) {
    "classify" -> Classification(r.indices.toList(), r.values.toList(), r.indices.map { label(labels, it) }, r.info)
    "detect" -> Detections(
        r.scores.indices.map { i ->
            Detection(r.boxes[4 * i], r.boxes[4 * i + 1], r.boxes[4 * i + 2], r.boxes[4 * i + 3], r.scores[i], r.classIds[i],
                label(labels, r.classIds[i]))
        },
        r.info,
    )
    "segment" -> Mask(r.mask, r.maskWidth, r.maskHeight, r.maskInSource, labels, r.info)
    else -> throw EdgepackException("task '$task' has no camera result in this app (classify, detect, segment)")
}
