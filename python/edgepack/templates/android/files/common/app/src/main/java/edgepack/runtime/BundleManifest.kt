// The bundle's manifest.json as typed values (docs/bundle.md of edgepack), and the NativeConfig the native
// library is configured with. Defaults are edgepack's (runtime/pipeline/spec.py). No android.* here.
package edgepack.runtime

import java.io.InputStream
import java.security.MessageDigest

class TensorSpec(val name: String, val shape: List<Long>, val engineName: String)

class ArtifactSpec(
    val engine: String,
    val precision: String,
    val files: Map<String, String>, // role ("model", "param", "bin") -> bundle-relative path
    val sha256: Map<String, String>, // bundle-relative path -> hex digest
    val inputs: List<TensorSpec>,
    val outputs: List<TensorSpec>,
) {
    val key: String get() = "$engine-$precision"
}

class PreprocessSpec(
    val input: String,
    val width: Int,
    val height: Int,
    val color: String,
    val resize: String,
    val mean: List<Double>,
    val std: List<Double>,
    val layout: String,
    val dtype: String,
    val padValue: Int,
    val cropFraction: Double,
) {
    val channels: Int get() = if (color == "GRAY") 1 else 3

    /** One value per channel (a single value applies to every channel), as three floats for the kernel. */
    fun perChannel(values: List<Double>): FloatArray =
        FloatArray(3) { c -> (if (values.size == 1) values[0] else values[minOf(c, values.size - 1)]).toFloat() }
}

class PostprocessSpec(
    val kind: String, // topk | yolo | seg_argmax | none
    val output: String,
    val topK: Int = 5,
    val softmax: Boolean = true,
    val yoloLayout: String = "attrs_first",
    val boxFormat: String = "cxcywh",
    val hasObjectness: Boolean = false,
    val scoreThreshold: Double = 0.25,
    val iouThreshold: Double = 0.45,
    val maxDetections: Int = 300,
    val classAgnostic: Boolean = false,
)

class BundleManifest(
    val name: String,
    val task: String,
    val labels: List<String>,
    val inputs: List<TensorSpec>,
    val outputs: List<TensorSpec>,
    val preprocess: PreprocessSpec?,
    val postprocess: PostprocessSpec,
    val artifacts: List<ArtifactSpec>,
) {
    /** The artifact for `engine` (and `precision`, or the first one listed for that engine). */
    fun artifact(engine: String, precision: String? = null): ArtifactSpec =
        artifacts.firstOrNull { it.engine == engine && (precision == null || it.precision == precision) }
            ?: throw EdgepackException(
                "the bundle has no $engine${precision?.let { "-$it" } ?: ""} artifact; it has " +
                    artifacts.joinToString(", ") { it.key } + " (add one with edgepack pack --to $engine)",
            )

    /**
     * Checks every file of `artifact` against its sha256 (`open` reads a bundle-relative path); throws naming
     * the first file that differs, so a truncated or replaced model never reaches the engine.
     */
    fun verify(artifact: ArtifactSpec, open: (String) -> InputStream) {
        for ((path, want) in artifact.sha256) checkFile(path, want, open(path))
    }

    /**
     * What the native library needs to run `artifact`: its files under `root` (a directory holding the
     * bundle's files at their bundle-relative paths), the pre/post-processing of this manifest.
     */
    fun nativeConfig(artifact: ArtifactSpec, root: String, libDir: String, threads: Int): NativeConfig {
        val pre = preprocess ?: throw EdgepackException("task '$task' has no preprocess spec; the camera app needs an image model")
        val post = postprocess
        val inputPos = inputs.indexOfFirst { it.name == pre.input }.coerceAtLeast(0)
        val outputPos = outputs.indexOfFirst { it.name == post.output }.coerceAtLeast(0)
        fun engineName(list: List<TensorSpec>, onnx: String) = list.firstOrNull { it.name == onnx }?.engineName?.ifEmpty { null } ?: onnx
        fun file(role: String) = artifact.files[role]?.let { "$root/$it" }
            ?: throw EdgepackException("artifact ${artifact.key} has no '$role' file")
        val (model, model2) = when (artifact.engine) {
            "litert" -> file("model") to ""
            "ncnn" -> file("param") to file("bin")
            else -> throw EdgepackException("engine '${artifact.engine}' is not in this app; it runs litert or ncnn")
        }
        val outputShape = outputs.firstOrNull { it.name == post.output }?.shape ?: emptyList()
        return NativeConfig(
            engine = artifact.engine,
            modelPath = model,
            modelPath2 = model2,
            libDir = libDir,
            inputName = engineName(artifact.inputs, pre.input),
            outputName = if (post.kind == "none") "" else engineName(artifact.outputs, post.output),
            inputPosition = inputPos,
            outputPosition = outputPos,
            outputShape = outputShape.toLongArray(),
            threads = threads,
            width = pre.width,
            height = pre.height,
            resize = pre.resize,
            cropFraction = pre.cropFraction,
            color = pre.color,
            layout = pre.layout,
            dtype = pre.dtype,
            padValue = pre.padValue,
            mean = pre.perChannel(pre.mean),
            std = pre.perChannel(pre.std),
            postKind = post.kind,
            topK = post.topK,
            softmax = post.softmax,
            yoloLayout = post.yoloLayout,
            boxFormat = post.boxFormat,
            hasObjectness = post.hasObjectness,
            scoreThreshold = post.scoreThreshold.toFloat(),
            iouThreshold = post.iouThreshold.toFloat(),
            maxDetections = post.maxDetections,
            classAgnostic = post.classAgnostic,
        )
    }

    companion object {
        const val FORMAT = "edgepack.bundle"
        const val SCHEMA_VERSION = 1

        fun parse(text: String): BundleManifest {
            val doc = Json.parse(text) as? Map<*, *> ?: throw EdgepackException("manifest.json is not a JSON object")
            if (doc["format"] != FORMAT) throw EdgepackException("manifest.json is not an edgepack bundle manifest (format is not $FORMAT)")
            val version = (doc["schema_version"] as? Number)?.toInt() ?: 0
            if (version > SCHEMA_VERSION) {
                throw EdgepackException("manifest.json uses bundle schema $version; this app reads schema $SCHEMA_VERSION: regenerate it with a newer edgepack")
            }
            val model = doc.obj("model")
            val pre = (doc["preprocess"] as? Map<*, *>)?.let { p ->
                PreprocessSpec(
                    input = p.str("input"),
                    width = p.int("width"),
                    height = p.int("height"),
                    color = p.str("color", "RGB"),
                    resize = p.str("resize", "stretch"),
                    mean = p.doubles("mean", listOf(0.0, 0.0, 0.0)),
                    std = p.doubles("std", listOf(1.0, 1.0, 1.0)),
                    layout = p.str("layout", "NCHW"),
                    dtype = p.str("dtype", "float32"),
                    padValue = p.int("pad_value", 114),
                    cropFraction = p.double("crop_fraction", 1.0),
                )
            }
            val q = doc.obj("postprocess")
            val post = PostprocessSpec(
                kind = q.str("kind"),
                output = q.str("output", ""),
                topK = q.int("top_k", 5),
                softmax = q.bool("softmax", true),
                yoloLayout = q.str("yolo_layout", "attrs_first"),
                boxFormat = q.str("box_format", "cxcywh"),
                hasObjectness = q.bool("has_objectness", false),
                scoreThreshold = q.double("score_threshold", 0.25),
                iouThreshold = q.double("iou_threshold", 0.45),
                maxDetections = q.int("max_detections", 300),
                classAgnostic = q.bool("class_agnostic", false),
            )
            val artifacts = doc.list("artifacts").map { a ->
                a as? Map<*, *> ?: throw EdgepackException("manifest.json: an artifact is not an object")
                ArtifactSpec(
                    engine = a.str("engine"),
                    precision = a.str("precision"),
                    files = a.obj("files").entries.associate { (k, v) -> k.toString() to safePath(v.toString()) },
                    sha256 = a.obj("sha256").entries.associate { (k, v) -> safePath(k.toString()) to v.toString() },
                    inputs = tensors(a["inputs"]),
                    outputs = tensors(a["outputs"]),
                )
            }
            return BundleManifest(
                name = model.str("name", "model"),
                task = doc.str("task"),
                labels = doc.list("labels").map { it.toString() },
                inputs = tensors(doc["inputs"]),
                outputs = tensors(doc["outputs"]),
                preprocess = pre,
                postprocess = post,
                artifacts = artifacts,
            )
        }

        /** Reads `input` to the end (and closes it); throws when its sha256 is not `want`. */
        fun checkFile(path: String, want: String, input: InputStream) {
            val got = input.use { sha256(it) }
            if (!got.equals(want, ignoreCase = true)) {
                throw EdgepackException("bundle file '$path' has sha256 $got, the manifest says $want; copy the bundle's files again")
            }
        }

        fun sha256(input: InputStream): String {
            val md = MessageDigest.getInstance("SHA-256")
            val buf = ByteArray(1 shl 16)
            while (true) {
                val n = input.read(buf)
                if (n < 0) break
                md.update(buf, 0, n)
            }
            return md.digest().joinToString("") { "%02x".format(it) }
        }

        /** A bundle-relative path that stays inside the bundle (as edgepack's reader checks). */
        fun safePath(p: String): String {
            val parts = p.split('/')
            if (p.isEmpty() || p.startsWith("/") || '\\' in p || (p.length > 1 && p[1] == ':') ||
                parts.any { it.isEmpty() || it == "." || it == ".." }
            ) {
                throw EdgepackException("manifest.json names the file '$p', which is not a plain path inside the bundle")
            }
            return p
        }

        private fun tensors(v: Any?): List<TensorSpec> = (v as? List<*> ?: emptyList<Any?>()).map { t ->
            t as? Map<*, *> ?: throw EdgepackException("manifest.json: a tensor entry is not an object")
            TensorSpec(t.str("name"), (t["shape"] as? List<*> ?: emptyList<Any?>()).map { (it as? Number)?.toLong() ?: -1L },
                t.str("engine_name", ""))
        }

        private fun Map<*, *>.obj(k: String): Map<*, *> = this[k] as? Map<*, *> ?: throw missing(k)
        private fun Map<*, *>.list(k: String): List<*> = this[k] as? List<*> ?: emptyList<Any?>()
        private fun Map<*, *>.str(k: String, default: String? = null): String =
            this[k] as? String ?: default ?: throw missing(k)
        private fun Map<*, *>.int(k: String, default: Int? = null): Int =
            (this[k] as? Number)?.toInt() ?: default ?: throw missing(k)
        private fun Map<*, *>.double(k: String, default: Double): Double = (this[k] as? Number)?.toDouble() ?: default
        private fun Map<*, *>.bool(k: String, default: Boolean): Boolean = this[k] as? Boolean ?: default
        private fun Map<*, *>.doubles(k: String, default: List<Double>): List<Double> =
            (this[k] as? List<*>)?.map { (it as? Number)?.toDouble() ?: throw missing(k) } ?: default

        private fun missing(k: String) = EdgepackException("manifest.json has no valid '$k'; repack the bundle with edgepack pack")
    }
}
