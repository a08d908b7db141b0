import Foundation
import Kernels
import Shell

BLASHealth.repairByReexecutingIfNeeded()
if let warning = KernelLevel.startupWarning(environment: ProcessInfo.processInfo.environment) {
    FileHandle.standardError.write(Data((warning + "\n").utf8))
}
exit(MedreplCommandLine.main(CommandLine.arguments))
