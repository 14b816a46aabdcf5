// Draws the latest result over the preview: labels (classify), boxes (detect) or the class mask (segment).
import SwiftUI

struct OverlayView: View {
    let camera: CameraManager

    var body: some View {
        Canvas { context, _ in
            guard let result = camera.result else { return }
            switch result.output {
            case .detections(let detections):
                for d in detections {
                    let rect = camera.viewRect(frameRect: d.box, frameSize: result.frameSize)
                    let color = Palette.color(d.classId)
                    context.stroke(Path(rect), with: .color(color), lineWidth: 2)
                    let text = Text("\(d.label) \(Int(d.score * 100))%").font(.caption).bold().foregroundColor(color)
                    context.draw(text, at: CGPoint(x: rect.minX + 2, y: rect.minY - 2), anchor: .bottomLeading)
                }
            case .mask(let mask):
                guard let image = Palette.image(mask) else { return }
                // the mask is upright (what the model saw); the preview of the front camera is mirrored
                let frame = camera.viewRect(frameRect: CGRect(origin: .zero, size: result.frameSize),
                                            frameSize: result.frameSize)
                var c = context
                if camera.isFront {
                    c.translateBy(x: frame.midX, y: 0)
                    c.scaleBy(x: -1, y: 1)
                    c.translateBy(x: -frame.midX, y: 0)
                }
                c.opacity = 0.45
                c.draw(Image(decorative: image, scale: 1), in: frame)
            case .classes:
                break  // listed by ContentView
            }
        }
        .allowsHitTesting(false)
    }
}

enum Palette {
    static func color(_ id: Int) -> Color {
        Color(hue: Double((id * 47) % 360) / 360, saturation: 0.85, brightness: 0.95)
    }

    /// The mask's content rectangle as an RGBA image, one colour per class (class 0 transparent).
    static func image(_ mask: EdgepackMask) -> CGImage? {
        let x0 = max(0, Int(mask.content.minX)), y0 = max(0, Int(mask.content.minY))
        let w = min(mask.width - x0, Int(mask.content.width.rounded())), h = min(mask.height - y0, Int(mask.content.height.rounded()))
        guard w > 0, h > 0, mask.classes.count >= mask.width * mask.height else { return nil }
        var rgba = [UInt8](repeating: 0, count: w * h * 4)
        mask.classes.withUnsafeBytes { (src: UnsafeRawBufferPointer) in
            for y in 0..<h {
                for x in 0..<w {
                    let cls = Int(src[(y0 + y) * mask.width + x0 + x])
                    guard cls > 0 else { continue }
                    let hue = Double((cls * 47) % 360) / 360
                    let (r, g, b) = rgb(hue: hue)
                    let o = (y * w + x) * 4
                    rgba[o] = r
                    rgba[o + 1] = g
                    rgba[o + 2] = b
                    rgba[o + 3] = 255
                }
            }
        }
        guard let provider = CGDataProvider(data: Data(rgba) as CFData) else { return nil }
        return CGImage(width: w, height: h, bitsPerComponent: 8, bitsPerPixel: 32, bytesPerRow: w * 4,
                       space: CGColorSpaceCreateDeviceRGB(),
                       bitmapInfo: CGBitmapInfo(rawValue: CGImageAlphaInfo.premultipliedLast.rawValue),
                       provider: provider, decode: nil, shouldInterpolate: false, intent: .defaultIntent)
    }

    private static func rgb(hue: Double) -> (UInt8, UInt8, UInt8) {
        let h = hue * 6, i = Int(h) % 6, f = h - Double(Int(h))
        let v = 0.95, p = v * 0.15, q = v * (1 - 0.85 * f), t = v * (1 - 0.85 * (1 - f))
        let c: (Double, Double, Double)
        switch i {
        case 0: c = (v, t, p)
        case 1: c = (q, v, p)
        case 2: c = (p, v, t)
        case 3: c = (p, q, v)
        case 4: c = (t, p, v)
        default: c = (v, p, q)
        }
        return (UInt8(c.0 * 255), UInt8(c.1 * 255), UInt8(c.2 * 255))
    }
}
