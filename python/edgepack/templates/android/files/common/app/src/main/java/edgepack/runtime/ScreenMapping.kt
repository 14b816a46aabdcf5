// Camera-buffer pixels -> screen pixels of a PreviewView in FILL_CENTER (the default scale type): the buffer is
// turned upright by the frame's rotation, mirrored for the front camera (the preview is mirrored), scaled
// to cover the view and centred, so the parts outside the view are cropped. No android.* here.
package edgepack.runtime

import kotlin.math.max

class ScreenMapping(
    val srcWidth: Int,
    val srcHeight: Int,
    val rotation: Int, // clockwise degrees that make the buffer upright (ImageInfo.rotationDegrees)
    val mirror: Boolean, // front camera
    val viewWidth: Int,
    val viewHeight: Int,
) {
    init {
        require(rotation == 0 || rotation == 90 || rotation == 180 || rotation == 270) { "rotation $rotation" }
    }

    val uprightWidth: Int = if (rotation == 90 || rotation == 270) srcHeight else srcWidth
    val uprightHeight: Int = if (rotation == 90 || rotation == 270) srcWidth else srcHeight

    /** FILL_CENTER: the larger of the two fits, so the image covers the view. */
    val scale: Double = max(viewWidth.toDouble() / uprightWidth, viewHeight.toDouble() / uprightHeight)
    val offsetX: Double = (viewWidth - uprightWidth * scale) / 2
    val offsetY: Double = (viewHeight - uprightHeight * scale) / 2

    /** A buffer point (continuous coordinates) in the upright, mirrored-if-front image. */
    fun upright(x: Double, y: Double): DoubleArray {
        val (ux, uy) = when (rotation) {
            0 -> x to y
            90 -> (srcHeight - y) to x
            180 -> (srcWidth - x) to (srcHeight - y)
            else -> y to (srcWidth - x)
        }
        return doubleArrayOf(if (mirror) uprightWidth - ux else ux, uy)
    }

    fun toScreen(x: Double, y: Double): DoubleArray {
        val u = upright(x, y)
        return doubleArrayOf(u[0] * scale + offsetX, u[1] * scale + offsetY)
    }

    /** A buffer box (x1, y1, x2, y2) on screen, corners re-ordered so left <= right, top <= bottom. */
    fun boxToScreen(x1: Float, y1: Float, x2: Float, y2: Float): FloatArray {
        val a = toScreen(x1.toDouble(), y1.toDouble())
        val b = toScreen(x2.toDouble(), y2.toDouble())
        return floatArrayOf(
            minOf(a[0], b[0]).toFloat(), minOf(a[1], b[1]).toFloat(),
            maxOf(a[0], b[0]).toFloat(), maxOf(a[1], b[1]).toFloat(),
        )
    }

    /**
     * Screen positions of the mask's corners (0,0), (w,0), (w,h), (0,h) as 8 floats, for
     * Matrix.setPolyToPoly: the mask grid is either buffer pixels or the model output grid over the model input.
     */
    fun maskCorners(mask: Mask): FloatArray {
        val out = FloatArray(8)
        val corners = arrayOf(0 to 0, mask.width to 0, mask.width to mask.height, 0 to mask.height)
        for ((i, c) in corners.withIndex()) {
            val src = if (mask.inSource) {
                doubleArrayOf(c.first.toDouble(), c.second.toDouble())
            } else {
                val g = mask.geometry
                g.toSource(c.first.toDouble() * g.outWidth / mask.width, c.second.toDouble() * g.outHeight / mask.height)
            }
            val s = toScreen(src[0], src[1])
            out[2 * i] = s[0].toFloat()
            out[2 * i + 1] = s[1].toFloat()
        }
        return out
    }
}

/** A model-input point -> camera-buffer pixels (edgepack's PreprocessInfo.map_point). */
fun Geometry.toSource(x: Double, y: Double): DoubleArray {
    var ox = (x - padX) / scaleX
    val oy = (y - padY) / scaleY
    if (mirror) ox = orientedWidth - ox
    val (cx, cy) = when (rotate) {
        0 -> ox to oy
        90 -> oy to (cropHeight - ox)
        180 -> (cropWidth - ox) to (cropHeight - oy)
        else -> (cropWidth - oy) to ox
    }
    return doubleArrayOf(cx + cropX, cy + cropY)
}
