// The screen: camera preview, the result overlay, the top classes, latency and FPS, and a camera switch.
import SwiftUI

struct ContentView: View {
    @State private var camera = CameraManager()

    var body: some View {
        ZStack(alignment: .bottom) {
            PreviewView(camera: camera).ignoresSafeArea()
            OverlayView(camera: camera).ignoresSafeArea()
            VStack(alignment: .leading, spacing: 6) {
                if let result = camera.result, case .classes(let classes) = result.output {
                    ForEach(classes.prefix(3), id: \.self) { c in
                        Text("\(c.label)  \(String(format: "%.1f%%", c.score * 100))").font(.headline)
                    }
                }
                HStack {
                    VStack(alignment: .leading) {
                        Text(stats).font(.caption.monospacedDigit())
                        Text(camera.engine + " - " + camera.status).font(.caption2).lineLimit(2)
                    }
                    Spacer()
                    Button {
                        camera.flip()
                    } label: {
                        Image(systemName: "arrow.triangle.2.circlepath.camera").font(.title2)
                    }
                    .accessibilityLabel("Switch camera")
                }
            }
            .padding()
            .foregroundStyle(.white)
            .background(.black.opacity(0.45))
        }
        .onAppear { camera.start() }
        .onDisappear { camera.stop() }
    }

    private var stats: String {
        guard let r = camera.result else { return "waiting for frames" }
        return String(format: "pre %.1f  infer %.1f  post %.1f ms  |  %.1f FPS", r.preprocessMs, r.inferenceMs,
                      r.postprocessMs, camera.fps)
    }
}
