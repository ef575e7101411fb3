import Foundation

/// Small inline SVG charts for the HTML report (pure: data in, markup out; no
/// scripts, no external references). Every label is escaped.
public enum SVGChart {
    /// One line of a line chart: points (x, y) in data units.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) { self.name = name; self.points = points }
    }

    /// One bar of a horizontal bar chart, with an optional objective drawn as a marker.
    public struct Bar: Sendable {
        public var label: String
        public var value: Double
        public var objective: Double?
        /// Drawn in the alarm colour.
        public var breached: Bool
        /// Shown at the end of the bar (default: the value).
        public var text: String
        public init(label: String, value: Double, objective: Double? = nil, breached: Bool = false, text: String) {
            self.label = label; self.value = value; self.objective = objective; self.breached = breached; self.text = text
        }
    }

    /// One event on a timeline (a scrub): ok events are green, others red.
    public struct Event: Sendable {
        public var time: Double
        public var ok: Bool
        public var label: String
        public init(time: Double, ok: Bool, label: String) { self.time = time; self.ok = ok; self.label = label }
    }

    /// The colours series are drawn in, in order.
    public static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
    static let alarm = "#d62728", good = "#2ca02c"

    /// A line chart of several series against time (x: seconds since the epoch), y formatted by `format`.
    public static func lines(title: String, series: [Series], width: Int = 720, height: Int = 260,
                             format: (Double) -> String) -> String {
        let pts = series.flatMap(\.points)
        let left = 80.0, right = 20.0, top = 30.0, bottom = 40.0 + 18.0 * Double((series.count + 2) / 3)
        let w = Double(width), h = Double(height) + bottom - 40
        var svg = open(title: title, width: width, height: Int(h))
        svg += text(x: left, y: 18, title, size: 14, weight: "bold")
        guard let minX = pts.map(\.x).min(), let maxX = pts.map(\.x).max() else {
            return svg + text(x: left, y: 60, "no data yet") + "</svg>"
        }
        let maxY = max(pts.map(\.y).max() ?? 0, 1)
        let x0 = minX == maxX ? minX - 3600 : minX, x1 = minX == maxX ? maxX + 3600 : maxX
        let plotW = w - left - right, plotH = Double(height) - top - 40
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotW }
        func py(_ y: Double) -> Double { top + plotH - y / maxY * plotH }
        // Axes, y grid with 4 ticks, x labels at both ends.
        for i in 0...4 {
            let v = maxY * Double(i) / 4, y = py(v)
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(w - right))\" y2=\"\(f(y))\" stroke=\"#ddd\"/>"
            svg += text(x: left - 6, y: y + 4, format(v), size: 11, anchor: "end")
        }
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(w - right))\" y2=\"\(f(top + plotH))\" stroke=\"#333\"/>"
        svg += text(x: left, y: top + plotH + 16, HTMLText.time(x0), size: 11)
        svg += text(x: w - right, y: top + plotH + 16, HTMLText.time(x1), size: 11, anchor: "end")
        for (i, s) in series.enumerated() {
            let colour = palette[i % palette.count]
            let sorted = s.points.sorted { $0.x < $1.x }
            let path = sorted.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            svg += "<polyline class=\"series\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(path)\"/>"
            for p in sorted {
                svg += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3\" fill=\"\(colour)\"><title>\(HTMLText.escape(s.name + " " + HTMLText.time(p.x) + ": " + format(p.y)))</title></circle>"
            }
            // Legend, three per row.
            let lx = left + Double(i % 3) * 210, ly = top + plotH + 36 + Double(i / 3) * 18
            svg += "<rect x=\"\(f(lx))\" y=\"\(f(ly - 9))\" width=\"10\" height=\"10\" fill=\"\(colour)\"/>"
            svg += text(x: lx + 14, y: ly, s.name, size: 12)
        }
        return svg + "</svg>"
    }

    /// A horizontal bar chart; a bar with an objective gets a dashed marker at it.
    public static func bars(title: String, bars: [Bar], width: Int = 720) -> String {
        let rowH = 26.0, top = 30.0, left = 170.0, right = 130.0
        let h = top + rowH * Double(max(bars.count, 1)) + 10
        var svg = open(title: title, width: width, height: Int(h))
        svg += text(x: 10, y: 18, title, size: 14, weight: "bold")
        if bars.isEmpty { return svg + text(x: left, y: top + 16, "nothing to show") + "</svg>" }
        let scale = max(bars.map { max($0.value, $0.objective ?? 0) }.max() ?? 1, 1e-9)
        let plotW = Double(width) - left - right
        for (i, b) in bars.enumerated() {
            let y = top + Double(i) * rowH
            let bw = max(1, b.value / scale * plotW)
            svg += text(x: left - 8, y: y + 16, b.label, size: 12, anchor: "end")
            svg += "<rect class=\"bar\" x=\"\(f(left))\" y=\"\(f(y + 4))\" width=\"\(f(bw))\" height=\"16\" fill=\"\(b.breached ? alarm : good)\"><title>\(HTMLText.escape(b.label + ": " + b.text))</title></rect>"
            if let o = b.objective {
                let ox = left + o / scale * plotW
                svg += "<line class=\"objective\" x1=\"\(f(ox))\" y1=\"\(f(y))\" x2=\"\(f(ox))\" y2=\"\(f(y + rowH - 2))\" stroke=\"#333\" stroke-width=\"2\" stroke-dasharray=\"4 2\"/>"
            }
            svg += text(x: left + max(bw, b.objective.map { $0 / scale * plotW } ?? 0) + 6, y: y + 16, b.text, size: 12)
        }
        return svg + "</svg>"
    }

    /// Events along a time axis (green ok, red not), each with its label as a tooltip.
    public static func timeline(title: String, events: [Event], width: Int = 720) -> String {
        let left = 20.0, right = 20.0, h = 80.0
        var svg = open(title: title, width: width, height: Int(h))
        svg += text(x: left, y: 18, title, size: 14, weight: "bold")
        guard let minT = events.map(\.time).min(), let maxT = events.map(\.time).max() else {
            return svg + text(x: left, y: 50, "no scrub recorded yet") + "</svg>"
        }
        let t0 = minT == maxT ? minT - 3600 : minT, t1 = minT == maxT ? maxT + 3600 : maxT
        let plotW = Double(width) - left - right
        svg += "<line x1=\"\(f(left))\" y1=\"45\" x2=\"\(f(left + plotW))\" y2=\"45\" stroke=\"#333\"/>"
        for e in events {
            let x = left + (e.time - t0) / (t1 - t0) * plotW
            svg += "<circle class=\"event\" cx=\"\(f(x))\" cy=\"45\" r=\"6\" fill=\"\(e.ok ? good : alarm)\"><title>\(HTMLText.escape(HTMLText.time(e.time) + ": " + e.label))</title></circle>"
        }
        svg += text(x: left, y: 72, HTMLText.time(t0), size: 11)
        svg += text(x: left + plotW, y: 72, HTMLText.time(t1), size: 11, anchor: "end")
        return svg + "</svg>"
    }

    // MARK: pieces

    static func open(title: String, width: Int, height: Int) -> String {
        "<svg role=\"img\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" aria-label=\"\(HTMLText.escape(title))\">"
    }

    static func text(x: Double, y: Double, _ s: String, size: Int = 12, anchor: String = "start", weight: String = "normal") -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\" font-weight=\"\(weight)\" font-family=\"sans-serif\">\(HTMLText.escape(s))</text>"
    }

    /// One decimal, no locale.
    static func f(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        let m = Int64((abs(v) * 10).rounded()), sign = v < 0 && m != 0 ? "-" : ""
        return m % 10 == 0 ? "\(sign)\(m / 10)" : "\(sign)\(m / 10).\(m % 10)"
    }
}
