import Foundation

/// Which Kullback–Leibler divergence bounds the step. The two agree to second order at θ_old
/// (both have the Fisher information as Hessian) and differ at third order.
public enum KLDirection: Sendable, Equatable {
    /// KL(π_new ‖ π_old): Stable-Baselines3-contrib (`kl_divergence(distribution, old_distribution)`).
    case newFromOld
    /// KL(π_old ‖ π_new): OpenAI baselines (`oldpi.pd.kl(pi.pd)`) and Spinning Up.
    case oldFromNew
}

/// The head's per-state formulas, in Double from the network's outputs (means or logits) in T:
/// log-probabilities, KL divergences, and the derivative of log π with respect to the outputs.
/// Plain and exact up to Double rounding; each costs O(n_L) per state.
struct PolicyHeadMath {
    let head: PolicyHead
    /// n_L.
    let outputs: Int

    static let halfLogTwoPi = 0.5 * log(2 * Double.pi)

    /// log π(a | s) of a Gaussian with means `mean` and log standard deviations `logStd`.
    func gaussianLogProbability<T: BinaryFloatingPoint>(mean: UnsafePointer<T>, logStd: [Double], action: UnsafePointer<T>) -> Double {
        var sum = 0.0
        for a in 0..<outputs {
            let z = (Double(action[a]) - Double(mean[a])) * exp(-logStd[a])
            sum += -0.5 * z * z - logStd[a] - Self.halfLogTwoPi
        }
        return sum
    }

    /// log softmax(z)_c, computed as z_c − max z − log Σ exp(z − max z).
    func logSoftmax<T: BinaryFloatingPoint>(logits: UnsafePointer<T>, _ c: Int) -> Double {
        let (maximum, logSum) = logSumExp(logits)
        return Double(logits[c]) - maximum - logSum
    }

    /// (max z, log Σ exp(z − max z)).
    func logSumExp<T: BinaryFloatingPoint>(_ logits: UnsafePointer<T>) -> (Double, Double) {
        var maximum = -Double.infinity
        for c in 0..<outputs { maximum = max(maximum, Double(logits[c])) }
        var sum = 0.0
        for c in 0..<outputs { sum += exp(Double(logits[c]) - maximum) }
        return (maximum, log(sum))
    }

    /// KL(p ‖ q) for one state, p and q given by their outputs (and log σ for the Gaussian):
    /// Gaussian Σ_a [log σ_q − log σ_p + (σ_p² + (μ_p − μ_q)²) / (2σ_q²) − ½];
    /// categorical Σ_c p_c (log p_c − log q_c).
    func kl<T: BinaryFloatingPoint>(_ p: UnsafePointer<T>, logStdP: [Double], _ q: UnsafePointer<T>, logStdQ: [Double]) -> Double {
        var sum = 0.0
        switch head {
        case .gaussian:
            for a in 0..<outputs {
                let difference = Double(p[a]) - Double(q[a])
                let varianceRatio = exp(2 * (logStdP[a] - logStdQ[a]))
                sum += logStdQ[a] - logStdP[a] + 0.5 * (varianceRatio + difference * difference * exp(-2 * logStdQ[a])) - 0.5
            }
        case .categorical:
            let (maxP, logSumP) = logSumExp(p), (maxQ, logSumQ) = logSumExp(q)
            for c in 0..<outputs {
                let logP = Double(p[c]) - maxP - logSumP, logQ = Double(q[c]) - maxQ - logSumQ
                sum += exp(logP) * (logP - logQ)
            }
        }
        return sum
    }
}
