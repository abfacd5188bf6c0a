import Foundation
import Kernels
import SafeTensors

/// What one tensor pair contributes to the adapter and its report, and what to tell the user.
struct PairOutcome: Sendable {
    var module: AdapterModule?
    var row: ExtractionReport.Row?
    /// Skipped with a warning (shape mismatch, NaN or infinity, failed SVD).
    var problem = false
    /// Why nothing was kept, for the message when nothing at all is.
    var skip: SkipReason?
    var messages: [String] = []
}

/// Why a selected tensor contributed nothing.
enum SkipReason: Sendable, Equatable {
    case unchanged, notFloatingPoint(String), vector, other
}

/// Compress one pair: read ΔW = tuned − base, decide what it becomes (a LoRA pair, a tensor
/// saved whole, or nothing, with the reason), factor it, encode the factors as the adapter will
/// store them, and measure the report's figures on what is stored.
struct PairCompressor: @unchecked Sendable {
    let options: ExtractOptions
    let base: SafeTensorsModel
    let tuned: SafeTensorsModel

    func compress(_ tensor: SelectedTensor, threads: Int) throws -> PairOutcome {
        var outcome = PairOutcome()
        let tick = Date()
        let name = tensor.name, shape = tensor.base.shape
        func say(_ text: String) { outcome.messages.append(text) }
        guard tensor.base.shape == tensor.tuned.shape else {
            say("warning: shapes differ (base \(tensor.base.shape), tuned \(tensor.tuned.shape)); skipped")
            outcome.problem = true
            return outcome
        }
        guard tensor.base.dtype.isFloatingPoint, tensor.tuned.dtype.isFloatingPoint else {
            let dtype = tensor.base.dtype.isFloatingPoint ? tensor.tuned.dtype : tensor.base.dtype
            if tensor.base.dtype == tensor.tuned.dtype, try base.file(for: name).bytes(name) == tuned.file(for: name).bytes(name) {
                say("unchanged (\(dtype.rawValue)); skipped")
                outcome.skip = .unchanged
            } else {
                say("warning: changed, but \(dtype.rawValue) is not a floating-point type, so it cannot be part of a LoRA adapter; skipped")
                outcome.skip = .notFloatingPoint(dtype.rawValue)
            }
            return outcome
        }
        let isEmbedding = options.embeddingPattern.matches(name)
        let savedWhole = shape.count == 1 || (shape.count == 2 && isEmbedding && options.embeddings == .full)
        if shape.count == 1 && !options.saveVectors || shape.count > 2 || shape.count == 0 || (shape.count == 2 && isEmbedding && options.embeddings == .skip) {
            // Decided by the shape and options alone; read only to say whether it changed.
            let (_, changed, _) = try readDelta(tensor, wide: false)
            if !changed {
                say("unchanged; skipped")
                outcome.skip = .unchanged
            } else if shape.count == 1 {
                say("1-D, skipped (--vectors save keeps it)")
                outcome.skip = .vector
            } else {
                say(shape.count == 2 ? "embedding, skipped (--embeddings skip)" : "\(shape.count)-D tensor; skipped")
                outcome.skip = .other
            }
            return outcome
        }
        // ΔW in Double (exact for F32, F16 and BF16 inputs), stored as Float; F64 weights are read
        // as Double so nothing is lost before the subtraction.
        let (delta, changed, finite) = try readDelta(tensor, wide: tensor.base.dtype == .f64 || tensor.tuned.dtype == .f64)
        guard finite else {
            say("warning: the delta contains NaN or infinity; skipped")
            outcome.problem = true
            return outcome
        }
        guard changed else {
            say("unchanged; skipped")
            outcome.skip = .unchanged
            return outcome
        }
        if savedWhole {
            let module = AdapterModule.whole(name, shape: shape, values: try tuned.file(for: name).floats(name), dtype: options.dtype)
            outcome.module = module
            outcome.row = ExtractionReport.Row(module: tensor.module, kind: "whole", shape: shape, seconds: Date().timeIntervalSince(tick),
                                               method: "", note: "saved whole")
            say("saved whole")
            return outcome
        }
        let (m, n) = (shape[0], shape[1])
        var choice = options.policy.choice(for: tensor.module)
        if case .fixed(let r) = choice, r > min(m, n) {
            // A LoRA pair cannot have more rank than the matrix: keep the whole delta exactly.
            say("warning: rank \(r) is larger than the matrix allows (\(m) × \(n)); using rank \(min(m, n))")
            choice = .fixed(min(m, n))
        }
        do {
            // Embeddings are stored by PEFT as factors of ΔWᵀ (dim × num); the SVD of ΔW gives
            // them by exchanging U and V, with no transposed copy of the (large) delta.
            let factors = try compressDelta(delta, m: m, n: n, choice: choice, maxRank: options.policy.maxRank, method: options.method,
                                            threads: threads, ofTranspose: isEmbedding)
            let module = AdapterModule.pair(tensor.module, factors: factors, alpha: options.alpha ?? Double(factors.rank),
                                            embedding: isEmbedding, dtype: options.dtype)
            let relativeError = try delta.withUnsafeBufferPointer { try module.storedPair().relativeError(against: $0, threads: threads) }
            outcome.module = module
            outcome.row = ExtractionReport.Row(
                module: tensor.module, kind: isEmbedding ? "embedding" : "lora", shape: shape, rank: factors.rank,
                retainedEnergy: factors.retainedEnergy, relativeError: relativeError, optimalRelativeError: factors.optimalRelativeError,
                sigma1: factors.sigma1, sigmaNext: factors.sigmaNext, seconds: Date().timeIntervalSince(tick),
                method: factors.method.rawValue, note: factors.note)
            say("rank \(factors.rank) (\(factors.method.rawValue)), retained \(format(factors.retainedEnergy)), rel. error \(format(relativeError))")
            if case .energy(let fraction) = choice, !energyReached(factors.retainedEnergy, fraction, k: min(m, n)) {
                say("warning: energy \(fraction) not reached within the rank cap \(factors.rank) (retained \(String(format: "%.9f", factors.retainedEnergy)))")
            }
        } catch let error as CompressionError {
            say("warning: \(error); skipped")
            outcome.problem = true
        } catch let error as LAPACKError {
            say("warning: \(error); skipped")
            outcome.problem = true
        }
        return outcome
    }

    func readDelta(_ tensor: SelectedTensor, wide: Bool) throws -> (delta: [Float], changed: Bool, finite: Bool) {
        try LowRank.readDelta(tensor.name, base: base, tuned: tuned, wide: wide)
    }
}

/// ΔW = tuned − base of tensor `name` as Float (one rounding of the exact difference), whether
/// anything changed, and whether every difference is finite. `wide` reads both in Double (for
/// F64 weights). Memory: ΔW plus a 256 KB chunk of the tuned tensor.
func readDelta(_ name: String, base: SafeTensorsModel, tuned: SafeTensorsModel, wide: Bool) throws -> (delta: [Float], changed: Bool, finite: Bool) {
        var nonzero = 0, nonFinite = 0
        if wide {
            let b = try base.file(for: name).doubles(name), t = try tuned.file(for: name).doubles(name)
            var delta = [Float](repeating: 0, count: b.count)
            for i in b.indices {
                let d = t[i] - b[i]
                nonFinite &+= d.isFinite ? 0 : 1
                nonzero &+= d != 0 ? 1 : 0
                delta[i] = Float(d)
            }
            return (delta, nonzero > 0, nonFinite == 0)
        }
        // The base is read whole into what becomes ΔW; the tuned tensor streams through a small
        // reused buffer. Fresh memory costs a page fault per 4 KB here (measured: reading a
        // 47 MB tensor into a new array took 60 ms), so the pair costs one large allocation.
        var delta = try base.file(for: name).floats(name)
        let tunedFile = try tuned.file(for: name)
        let chunk = 1 << 16
        try withUnsafeTemporaryAllocation(of: Float.self, capacity: chunk) { buffer in
            try delta.withUnsafeMutableBufferPointer { d in
                for start in stride(from: 0, to: d.count, by: chunk) {
                    let count = min(chunk, d.count - start)
                    try tunedFile.readFloats(name, range: start..<(start + count), into: buffer)
                    for i in 0..<count {
                        let x = buffer[i] - d[start + i]
                        d[start + i] = x
                        nonzero &+= x != 0 ? 1 : 0
                        nonFinite &+= x.isFinite ? 0 : 1
                    }
                }
            }
        }
        return (delta, nonzero > 0, nonFinite == 0)
}

/// Whether `retained` reaches the energy `fraction` up to rounding: the retained energy is a sum of
/// up to k squared singular values of a Float delta, each with relative error of order
/// ε = 2⁻²³, so it may fall short of an exact 1 (or of any fraction it meets exactly) by about
/// √k·ε; 8√k·ε is allowed.
func energyReached(_ retained: Double, _ fraction: Double, k: Int) -> Bool {
    retained >= fraction - 8 * Double(k).squareRoot() * Double(Float.ulpOfOne)
}
