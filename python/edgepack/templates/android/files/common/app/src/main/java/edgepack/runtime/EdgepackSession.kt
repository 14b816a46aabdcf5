// A loaded model: the manifest, the chosen artifact and the native handle. Runs are serialized here (the
// engines are not re-entrant) and close() waits for a run in flight. No android.*: EdgepackModel (Android)
// finds the files and the library directory, host tests build this directly.
package edgepack.runtime

import java.nio.ByteBuffer

class EdgepackSession private constructor(
    val manifest: BundleManifest,
    val artifact: ArtifactSpec,
    private var handle: Long,
) : AutoCloseable {
    private val lock = Any()

    /** Engine, threads and input, for the screen. */
    val description: String = NativeBridge.describe(handle)

    fun runYuv(
        y: ByteBuffer, u: ByteBuffer, v: ByteBuffer, width: Int, height: Int, yRowStride: Int, uRowStride: Int,
        vRowStride: Int, uvPixelStride: Int, rotation: Int, mirror: Boolean,
    ): EdgepackResult {
        val raw = synchronized(lock) {
            if (handle == 0L) throw EdgepackException("the model is closed; load it again")
            NativeBridge.runYuv(handle, y, u, v, width, height, yRowStride, uRowStride, vRowStride, uvPixelStride, rotation, mirror)
        }
        return toResult(manifest.task, manifest.labels, raw)
    }

    override fun close() {
        synchronized(lock) {
            if (handle != 0L) NativeBridge.close(handle)
            handle = 0L
        }
    }

    companion object {
        /** `root` holds the bundle's files at their bundle-relative paths (already sha256-checked). */
        fun open(manifest: BundleManifest, artifact: ArtifactSpec, root: String, libDir: String, threads: Int): EdgepackSession {
            val handle = NativeBridge.create(manifest.nativeConfig(artifact, root, libDir, threads))
            try {
                return EdgepackSession(manifest, artifact, handle)
            } catch (e: Throwable) {
                NativeBridge.close(handle)
                throw e
            }
        }
    }
}
