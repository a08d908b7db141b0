import Foundation
import Kernels
import Shell

BLASHealth.repairByReexecutingIfNeeded()
exit(MedreplCommandLine.main(CommandLine.arguments))
