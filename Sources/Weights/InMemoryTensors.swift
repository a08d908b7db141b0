/// Named f32 tensors held in memory, as a `TensorSource`: `[name: values]` (flat; a loader accepts a flat
/// tensor whose element count is right) or `[name: (shape, values)]`. Messages name them as `weights`.
///
/// ```swift
/// let source = InMemoryTensors(["model.norm.weight": [1, 1, 1, 1], ...])
/// let model = try LlamaModel(config: config, source: source)
/// ```
public final class InMemoryTensors: TensorSource, @unchecked Sendable {
    public var tensors: [String: (shape: [Int], values: [Float])]

    public init(shaped: [String: (shape: [Int], values: [Float])]) { tensors = shaped }

    public convenience init(_ flat: [String: [Float]]) {
        self.init(shaped: flat.mapValues { (shape: [$0.count], values: $0) })
    }

    public func tensorNames() -> [String] { tensors.keys.sorted() }

    public func shape(of name: String) throws -> [Int] { try tensor(name).shape }

    public func readFloats(_ name: String, into out: UnsafeMutablePointer<Float>, count: Int) throws {
        let values = try tensor(name).values
        guard values.count == count else {
            throw WeightsError(file: "weights", field: "tensor \"\(name)\"", "caller expects \(count) elements but it has \(values.count)")
        }
        values.withUnsafeBufferPointer { if let base = $0.baseAddress { out.update(from: base, count: count) } }
    }

    public func tensorLocation(of name: String) -> TensorLocation { TensorLocation(file: "weights", name: name) }

    private func tensor(_ name: String) throws -> (shape: [Int], values: [Float]) {
        guard let t = tensors[name] else { throw WeightsError(file: "weights", field: "tensor \"\(name)\"", "no such tensor") }
        return t
    }
}
