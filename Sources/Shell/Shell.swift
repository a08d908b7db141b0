import Foundation
import Kernels

/// The command-line entry points of `medrepl`.
public enum MedreplCommandLine {
    public static func main(_ arguments: [String]) -> Int32 {
        print(BLASHealth.statusLine())
        return 0
    }
}
