// Frames per second and latency over a sliding window (for the on-screen line). No android.* here.
package edgepack.runtime

class FpsMeter(private val window: Int = 30) {
    private val stamps = ArrayDeque<Long>()
    private val latencies = ArrayDeque<Long>()

    /** Record a frame finished at `nowNanos` whose inference took `latencyNanos`. */
    fun add(nowNanos: Long, latencyNanos: Long) {
        stamps.addLast(nowNanos)
        latencies.addLast(latencyNanos)
        while (stamps.size > window) stamps.removeFirst()
        while (latencies.size > window) latencies.removeFirst()
    }

    val fps: Double
        get() = if (stamps.size < 2) 0.0 else (stamps.size - 1) * 1e9 / (stamps.last() - stamps.first()).coerceAtLeast(1)

    /** Median latency in milliseconds over the window. */
    val latencyMs: Double
        get() = if (latencies.isEmpty()) 0.0 else latencies.sorted()[latencies.size / 2] / 1e6

    override fun toString() = "%.1f fps, %.1f ms".format(fps, latencyMs)
}
