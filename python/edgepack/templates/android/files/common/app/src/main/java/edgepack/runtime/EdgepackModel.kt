// The Kotlin API to lift into an app: EdgepackModel.load(context, "edgepack") then model.run(imageProxy).
// It reads the bundle's manifest.json from assets/<assetDir>/, copies the artifact's files to app storage
// once (checking each sha256 against the manifest on the way) and loads them in the native library.
package edgepack.runtime

import android.content.Context
import android.graphics.ImageFormat
import androidx.camera.core.ImageProxy
import java.io.File
import java.io.FileNotFoundException

class EdgepackModel private constructor(private val session: EdgepackSession) : AutoCloseable {
    val manifest: BundleManifest get() = session.manifest
    val task: String get() = session.manifest.task
    val labels: List<String> get() = session.manifest.labels

    /** Engine, threads and input shape, for the screen. */
    val description: String get() = "${session.artifact.key}: ${session.description}"

    /**
     * Runs one CameraX frame (ImageAnalysis with OUTPUT_IMAGE_FORMAT_YUV_420_888). The rotation comes from
     * the frame; `mirror` flips the upright frame as a front camera's preview shows it. Results are in the
     * frame buffer's pixels (ScreenMapping puts them on screen). The caller still closes the ImageProxy.
     */
    fun run(image: ImageProxy, mirror: Boolean = false): EdgepackResult {
        if (image.format != ImageFormat.YUV_420_888) {
            throw EdgepackException("the camera frame is format ${image.format}; set ImageAnalysis to OUTPUT_IMAGE_FORMAT_YUV_420_888")
        }
        val p = image.planes
        return session.runYuv(
            p[0].buffer, p[1].buffer, p[2].buffer, image.width, image.height,
            p[0].rowStride, p[1].rowStride, p[2].rowStride, p[1].pixelStride,
            image.imageInfo.rotationDegrees, mirror,
        )
    }

    override fun close() = session.close()

    companion object {
        init {
            System.loadLibrary("edgepack_jni")
        }

        /**
         * Loads the bundle copied into assets/<assetDir>/ (manifest.json plus the artifact's files at their
         * bundle paths). `engine`/`precision` pick the artifact (default: the first whose files are present).
         */
        fun load(
            context: Context,
            assetDir: String = "edgepack",
            threads: Int = 2,
            engine: String? = null,
            precision: String? = null,
        ): EdgepackModel {
            val assets = context.assets
            val manifest = try {
                assets.open("$assetDir/manifest.json").use { BundleManifest.parse(it.readBytes().toString(Charsets.UTF_8)) }
            } catch (e: FileNotFoundException) {
                throw EdgepackException("assets/$assetDir/manifest.json not found; copy the bundle's files there (edgepack template android does)")
            }
            fun present(path: String) = try {
                assets.open("$assetDir/$path").close()
                true
            } catch (e: FileNotFoundException) {
                false
            }
            val artifact = if (engine != null) {
                manifest.artifact(engine, precision)
            } else {
                manifest.artifacts.firstOrNull { a -> a.engine in ENGINES && a.sha256.keys.all(::present) }
                    ?: throw EdgepackException("assets/$assetDir has no complete litert or ncnn artifact of the bundle")
            }
            // one directory per file content: a file that is there was checked when it was written
            val root = File(context.filesDir, "edgepack/${artifact.key}")
            for ((path, digest) in artifact.sha256) {
                val dest = File(root, path)
                val stamp = File(dest.path + ".sha256")
                if (dest.isFile && stamp.isFile && stamp.readText() == digest) continue
                dest.parentFile?.mkdirs()
                val part = File(dest.path + ".part")
                assets.open("$assetDir/$path").use { input -> part.outputStream().use { input.copyTo(it) } }
                BundleManifest.checkFile(path, digest, part.inputStream())
                if (!part.renameTo(dest)) throw EdgepackException("cannot write ${dest.path}")
                stamp.writeText(digest)
            }
            val libDir = context.applicationInfo.nativeLibraryDir ?: ""
            return EdgepackModel(EdgepackSession.open(manifest, artifact, root.path, libDir, threads))
        }

        private val ENGINES = setOf("litert", "ncnn")
    }
}
