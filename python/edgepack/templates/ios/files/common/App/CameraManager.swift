// Camera capture: AVCaptureSession -> AVCaptureVideoDataOutput (32BGRA, late frames dropped) on a serial
// queue -> EdgepackModel. Frames stay in the sensor's orientation; the rotation that makes them upright
// (AVCaptureDevice.RotationCoordinator) goes to the C++ preprocess, which rotates while it resizes.
import AVFoundation
import Observation
import QuartzCore

@Observable
final class CameraManager: NSObject, AVCaptureVideoDataOutputSampleBufferDelegate {
    let session = AVCaptureSession()
    private(set) var position: AVCaptureDevice.Position = .back
    private(set) var result: EdgepackResult?
    private(set) var fps: Double = 0
    private(set) var status: String = "starting"

    private let sessionQueue = DispatchQueue(label: "edgepack.session")  // serial
    private let videoQueue = DispatchQueue(label: "edgepack.video")  // serial
    private let output = AVCaptureVideoDataOutput()
    @ObservationIgnored private var model: EdgepackModel?
    @ObservationIgnored private var coordinator: AVCaptureDevice.RotationCoordinator?
    @ObservationIgnored private var previewObservation: NSKeyValueObservation?
    @ObservationIgnored weak var previewLayer: AVCaptureVideoPreviewLayer?
    @ObservationIgnored private var lastFrame = CACurrentMediaTime()

    override init() {
        super.init()
        do {
            model = try EdgepackModel()
        } catch {
            status = error.localizedDescription
        }
    }

    var engine: String { model?.engine ?? "-" }
    var isFront: Bool { position == .front }

    func start() {
        switch AVCaptureDevice.authorizationStatus(for: .video) {
        case .authorized:
            sessionQueue.async { self.configure(position: self.position) }
        case .notDetermined:
            AVCaptureDevice.requestAccess(for: .video) { granted in
                if granted {
                    self.sessionQueue.async { self.configure(position: self.position) }
                } else {
                    self.publish(status: "camera access denied: allow it in Settings")
                }
            }
        default:
            publish(status: "camera access denied: allow it in Settings")
        }
    }

    func stop() {
        sessionQueue.async { self.session.stopRunning() }
    }

    func flip() {
        let next: AVCaptureDevice.Position = position == .back ? .front : .back
        sessionQueue.async { self.configure(position: next) }
    }

    /// Boxes and regions in frame pixels -> the preview layer's coordinates (handles rotation, mirroring and
    /// the aspect-fill crop). The unrotated buffer is the metadata-output coordinate space.
    func viewRect(frameRect: CGRect, frameSize: CGSize) -> CGRect {
        guard let layer = previewLayer, frameSize.width > 0, frameSize.height > 0 else { return .zero }
        let unit = CGRect(x: frameRect.minX / frameSize.width, y: frameRect.minY / frameSize.height,
                          width: frameRect.width / frameSize.width, height: frameRect.height / frameSize.height)
        return layer.layerRectConverted(fromMetadataOutputRect: unit)
    }

    private func configure(position: AVCaptureDevice.Position) {
        session.beginConfiguration()
        defer { session.commitConfiguration() }
        session.sessionPreset = .vga640x480
        session.inputs.forEach { session.removeInput($0) }
        guard let device = AVCaptureDevice.default(.builtInWideAngleCamera, for: .video, position: position),
              let input = try? AVCaptureDeviceInput(device: device), session.canAddInput(input) else {
            publish(status: "no \(position == .front ? "front" : "back") camera")
            return
        }
        session.addInput(input)
        if session.outputs.isEmpty {
            output.videoSettings = [kCVPixelBufferPixelFormatTypeKey as String: kCVPixelFormatType_32BGRA]
            output.alwaysDiscardsLateVideoFrames = true
            output.setSampleBufferDelegate(self, queue: videoQueue)
            if session.canAddOutput(output) { session.addOutput(output) }
        }
        DispatchQueue.main.async {
            self.position = position
            self.coordinator = AVCaptureDevice.RotationCoordinator(device: device, previewLayer: self.previewLayer)
            self.previewObservation = self.coordinator?.observe(\.videoRotationAngleForHorizonLevelPreview,
                                                                 options: [.initial, .new]) { [weak self] c, _ in
                self?.previewLayer?.connection?.videoRotationAngle = c.videoRotationAngleForHorizonLevelPreview
            }
            self.status = "running"
        }
        if !session.isRunning { session.startRunning() }
    }

    func captureOutput(_ output: AVCaptureOutput, didOutput sampleBuffer: CMSampleBuffer,
                       from connection: AVCaptureConnection) {
        guard let model, let buffer = CMSampleBufferGetImageBuffer(sampleBuffer) else { return }
        // clockwise degrees that level the frame, a multiple of 90 for the camera's fixed orientations
        let angle = coordinator?.videoRotationAngleForHorizonLevelCapture ?? 90
        let rotation = (Int((angle / 90).rounded()) * 90 % 360 + 360) % 360
        do {
            let r = try model.run(pixelBuffer: buffer, rotation: rotation)
            let now = CACurrentMediaTime()
            let dt = now - lastFrame
            lastFrame = now
            DispatchQueue.main.async {
                self.result = r
                if dt > 0 { self.fps = self.fps == 0 ? 1 / dt : self.fps * 0.9 + 0.1 / dt }
            }
        } catch {
            publish(status: error.localizedDescription)
        }
    }

    private func publish(status text: String) {
        DispatchQueue.main.async { self.status = text }
    }
}
