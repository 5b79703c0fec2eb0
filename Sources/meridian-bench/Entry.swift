import MeridianCommandLine

@main
enum Entry {
    static func main() async {
        await CommandMain.run(BenchCommand.self)
    }
}
