import Foundation

// The libFuzzer target for the SafeTensors reader; built by scripts/fuzz-safetensors.sh, which
// compiles this file together with Sources/SafeTensors (one module, so no package product is
// needed) with `-sanitize=fuzzer,address`.
//
// Each input is parsed four ways: as a whole .safetensors file (`SafeTensorsFile(bytes:)`); if it
// holds a zero byte, as the file whose header is the bytes before the first zero and whose data
// section is the bytes after it (the 8-byte length written for it, so that mutations of the
// header reach the checks behind the length); as a sharded model's index
// (`SafeTensorsModel.parseIndex`); and as bare JSON (`JSONValue.parse`).
// An error is the expected outcome for most inputs; a crash, a hang, a sanitizer report or a
// broken property is a finding. The properties checked on a file that parses:
// - every floating-point tensor reads whole, and in two pieces to the same values;
// - written back by `SafeTensorsWriter.serialize`, it parses to the same tensors, metadata and
//   bytes.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var candidates = [bytes]
    if let separator = bytes.firstIndex(of: 0) {
        candidates.append(withUnsafeBytes(of: UInt64(separator).littleEndian) { Array($0) } + bytes[..<separator] + bytes[(separator + 1)...])
    }
    for candidate in candidates {
        if let file = try? SafeTensorsFile(bytes: candidate) {
            checkReads(file)
            checkRoundTrip(file)
        }
    }
    _ = try? SafeTensorsModel.parseIndex(bytes, indexPath: "/fuzz/model.safetensors.index.json")
    _ = try? JSONValue.parse(bytes)
    return 0
}

func checkReads(_ file: SafeTensorsFile) {
    for tensor in file.tensors {
        guard let raw = try? file.bytes(tensor.name), raw.count == tensor.dataOffsets.count else {
            fatalError("tensor '\(tensor.name)': its bytes do not read")
        }
        guard tensor.dtype.isFloatingPoint else { continue }
        guard let whole = try? file.doubles(tensor.name), whole.count == tensor.elementCount,
              let floats = try? file.floats(tensor.name), floats.count == tensor.elementCount else {
            fatalError("tensor '\(tensor.name)': its values do not read")
        }
        var pieces = [Float](repeating: 0, count: floats.count)
        let middle = floats.count / 2
        do {
            try pieces.withUnsafeMutableBufferPointer { buffer in
                try file.readFloats(tensor.name, range: 0..<middle, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<middle]))
                try file.readFloats(tensor.name, range: middle..<floats.count, into: UnsafeMutableBufferPointer(rebasing: buffer[middle...]))
            }
        } catch {
            fatalError("tensor '\(tensor.name)': a read in pieces failed: \(error)")
        }
        for i in floats.indices where floats[i].bitPattern != pieces[i].bitPattern && !(floats[i].isNaN && pieces[i].isNaN) {
            fatalError("tensor '\(tensor.name)': element \(i) reads \(floats[i]) whole and \(pieces[i]) in pieces")
        }
    }
}

func checkRoundTrip(_ file: SafeTensorsFile) {
    let tensors = file.tensors.map { info in
        TensorData(name: info.name, dtype: info.dtype, shape: info.shape, bytes: Data(try! file.bytes(info.name)))
    }
    let written = Array(SafeTensorsWriter.serialize(tensors, metadata: file.metadata))
    guard let again = try? SafeTensorsFile(bytes: written) else { fatalError("a file written back does not parse") }
    guard again.metadata == file.metadata,
          Set(again.tensors.map { [$0.name, $0.dtype.rawValue, "\($0.shape)"] }) == Set(file.tensors.map { [$0.name, $0.dtype.rawValue, "\($0.shape)"] }) else {
        fatalError("a file written back has other tensors or metadata")
    }
    for tensor in file.tensors where (try? again.bytes(tensor.name)) != (try? file.bytes(tensor.name)) {
        fatalError("tensor '\(tensor.name)': other bytes after writing back")
    }
}
