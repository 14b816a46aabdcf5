// The native library's JNI surface (app/src/main/cpp/edgepack_jni.cpp). Field and constructor names are read
// by the C++ side: change them together. No android.* here, so host tests load the same library with
// System.load and call these directly.
package edgepack.runtime

import java.nio.ByteBuffer

/** A failure of the model or its input, with a one-line message meant for the user. */
class EdgepackException(message: String) : RuntimeException(message)

/** Everything the native side needs, from BundleManifest.nativeConfig. */
class NativeConfig(
    @JvmField val engine: String,
    @JvmField val modelPath: String,
    @JvmField val modelPath2: String,
    @JvmField val libDir: String,
    @JvmField val inputName: String,
    @JvmField val outputName: String,
    @JvmField val inputPosition: Int,
    @JvmField val outputPosition: Int,
    @JvmField val outputShape: LongArray,
    @JvmField val threads: Int,
    @JvmField val width: Int,
    @JvmField val height: Int,
    @JvmField val resize: String,
    @JvmField val cropFraction: Double,
    @JvmField val color: String,
    @JvmField val layout: String,
    @JvmField val dtype: String,
    @JvmField val padValue: Int,
    @JvmField val mean: FloatArray,
    @JvmField val std: FloatArray,
    @JvmField val postKind: String,
    @JvmField val topK: Int,
    @JvmField val softmax: Boolean,
    @JvmField val yoloLayout: String,
    @JvmField val boxFormat: String,
    @JvmField val hasObjectness: Boolean,
    @JvmField val scoreThreshold: Float,
    @JvmField val iouThreshold: Float,
    @JvmField val maxDetections: Int,
    @JvmField val classAgnostic: Boolean,
)

/** One frame's raw result, made by the native side. */
class NativeResult(
    @JvmField val values: FloatArray, // top-k scores (softmax probabilities or logits)
    @JvmField val indices: IntArray, // top-k class ids
    @JvmField val boxes: FloatArray, // K x 4 (x1, y1, x2, y2) in source (camera buffer) pixels
    @JvmField val scores: FloatArray,
    @JvmField val classIds: IntArray,
    @JvmField val mask: ByteArray, // maskHeight x maskWidth class ids (unsigned)
    @JvmField val maskWidth: Int,
    @JvmField val maskHeight: Int,
    @JvmField val maskInSource: Boolean, // true: mask pixels are source pixels, else the model output grid
    @JvmField val geometry: IntArray, // see Geometry
    @JvmField val scale: DoubleArray, // scale_x, scale_y: resized / oriented
) {
    val info: Geometry get() = Geometry(geometry, scale)
}

/** Where the frame went inside the model input (edgepack's PreprocessInfo). */
class Geometry(g: IntArray, s: DoubleArray) {
    val srcWidth = g[0]
    val srcHeight = g[1]
    val cropX = g[2]
    val cropY = g[3]
    val cropWidth = g[4]
    val cropHeight = g[5]
    val rotate = g[6]
    val mirror = g[7] != 0
    val orientedWidth = g[8]
    val orientedHeight = g[9]
    val resizedWidth = g[10]
    val resizedHeight = g[11]
    val padX = g[12]
    val padY = g[13]
    val outWidth = g[14]
    val outHeight = g[15]
    val scaleX = s[0]
    val scaleY = s[1]
}

object NativeBridge {
    @JvmStatic external fun create(config: NativeConfig): Long

    /**
     * One YUV_420_888 frame: the three planes as direct ByteBuffers with their row strides and the chroma
     * pixel stride (CameraX ImageProxy.planes), the clockwise rotation that makes it upright, and whether to
     * mirror it (front camera). Boxes come back in the unrotated buffer's pixels.
     */
    @JvmStatic external fun runYuv(
        handle: Long, y: ByteBuffer, u: ByteBuffer, v: ByteBuffer, width: Int, height: Int,
        yRowStride: Int, uRowStride: Int, vRowStride: Int, uvPixelStride: Int, rotation: Int, mirror: Boolean,
    ): NativeResult

    @JvmStatic external fun describe(handle: Long): String

    @JvmStatic external fun close(handle: Long)
}
